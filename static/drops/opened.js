// An opened drop: it stays at least HOLD_SECONDS (even past the drop's end: the reader
// already holds it), then the message or player is wiped; "Close" wipes it at once.
import { t } from "../js/i18n.js";
import { enableCopy } from "./copy.js";
import { startAll } from "./countdown.js";

export const HOLD_SECONDS = 30;

// When the page may wipe an opened drop: its end, or 30 s from now if that is later.
export function holdUntil(expiresAt) {
  return Math.max(Number(expiresAt), Date.now() / 1000 + HOLD_SECONDS);
}

export function wipe(root) {
  const box = root.querySelector("[data-wipe]");
  const message = root.querySelector("[data-message]");
  const player = root.querySelector("[data-player]");
  if (player) {
    player.pause();
    if (player.src.startsWith("blob:")) URL.revokeObjectURL(player.src);
    player.removeAttribute("src");
    player.load();
    player.hidden = true;
  }
  if (message) {
    message.textContent = t("This drop was wiped from the page.");
    message.hidden = false;
  }
  for (const button of root.querySelectorAll("[data-copy-text], [data-close]")) button.hidden = true;
  if (box) box.classList.add("wiped");
}

export function activateOpened(root) {
  const message = root.querySelector("[data-message]");
  if (message && !message.hidden) enableCopy(root);
  else for (const button of root.querySelectorAll("[data-copy-text]")) button.hidden = true;
  const stops = startAll(root, () => wipe(root));
  const close = root.querySelector("[data-close]");
  close.hidden = false;
  close.addEventListener(
    "click",
    () => {
      for (const stop of stops) stop();
      wipe(root);
      root.querySelector("[data-opened-clock]").textContent = t("Closed: wiped from this page.");
    },
    { once: true },
  );
}

const opened = document.getElementById("opened");
if (opened && !opened.hidden) {
  // Server-rendered (the form posted before this module ran): hold from now on, too.
  const clock = opened.querySelector("[data-opened-expires]");
  clock.dataset.expiresAt = String(holdUntil(clock.dataset.expiresAt));
  opened.querySelector("[data-opened-clock]").hidden = false;
  activateOpened(opened);
}
