// Copy buttons: <button data-copy="ID"> copies the text or value of #ID.
export function enableCopy(root = document) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.hidden = false;
    if (button.dataset.copyReady) continue;
    button.dataset.copyReady = "1";
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      const text = target.value ?? target.textContent;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        if (target.select) target.select();
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
}
