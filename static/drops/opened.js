// An opened drop: count down and wipe the message or player when time runs out.
import { startAll } from "./countdown.js";

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
    message.textContent = "This drop has expired and was wiped from the page.";
    message.hidden = false;
  }
  if (box) box.classList.add("wiped");
}

export function activateOpened(root) {
  startAll(root, () => wipe(root));
}

const opened = document.getElementById("opened");
if (opened && !opened.hidden) activateOpened(opened);
