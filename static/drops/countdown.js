// Live countdowns for elements with data-countdown data-expires-at (Unix seconds).
function format(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Count `el` down to its data-expires-at; call onDone once when it reaches zero.
export function countdown(el, onDone) {
  let done = false;
  const tick = () => {
    const left = Number(el.dataset.expiresAt) - Date.now() / 1000;
    el.textContent = format(left);
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
