// Copy buttons: <button data-copy="ID"> copies the text or value of #ID. A successful
// copy fires a bubbling "copied" event on the button, so a page can tell what was copied.
import { t } from "../js/i18n.js";

// Put `text` on the clipboard and say so on `button`; when the clipboard refuses,
// select `target` (if given) so Ctrl+C works. Resolves to whether the copy happened.
export async function copyText(button, text, target = null) {
  button.dataset.label ??= button.textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
    button.textContent = t("Copied");
    button.dispatchEvent(new CustomEvent("copied", { bubbles: true }));
  } catch {
    if (target?.select) target.select();
    else if (target) window.getSelection().selectAllChildren(target);
    button.textContent = t("Press Ctrl+C");
  }
  clearTimeout(Number(button.dataset.labelTimer));
  button.dataset.labelTimer = String(
    setTimeout(() => {
      button.textContent = button.dataset.label;
    }, 1500),
  );
  return copied;
}

export function enableCopy(root = document) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.hidden = false;
    if (button.dataset.copyReady) continue;
    button.dataset.copyReady = "1";
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.copy);
      copyText(button, target.value ?? target.textContent, target);
    });
  }
}
