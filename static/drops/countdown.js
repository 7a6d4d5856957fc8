// Live countdowns for elements with data-countdown data-expires-at (Unix seconds).
import { formatClock } from "../js/i18n.js";

// Count `el` down to its data-expires-at; call onDone once when it reaches zero.
export function countdown(el, onDone) {
  let done = false;
  const tick = () => {
    const left = Number(el.dataset.expiresAt) - Date.now() / 1000;
    el.textContent = formatClock(left);
    el.classList.toggle("urgent", left < 10);
    if (left <= 0 && !done) {
      done = true;
      clearInterval(timer);
      if (onDone) onDone();
    }
  };
  const timer = setInterval(tick, 250);
  tick();
  return () => clearInterval(timer);
}

// Start every countdown under `root`; returns their stop functions.
export function startAll(root = document, onDone) {
  const stops = [];
  for (const el of root.querySelectorAll("[data-countdown]")) {
    if (el.dataset.expiresAt) stops.push(countdown(el, onDone));
  }
  return stops;
}
