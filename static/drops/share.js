// The share page (also drawn by new.js after a drop is made): copy buttons, countdown.
import { startAll } from "./countdown.js";
import { enableCopy } from "./copy.js";

export function activateShare(root) {
  enableCopy(root);
  startAll(root, () => {
    const line = root.querySelector(".countdown-line");
    if (line) line.textContent = "This drop has expired.";
  });
}

const share = document.getElementById("share");
if (share && !share.hidden) activateShare(share);
