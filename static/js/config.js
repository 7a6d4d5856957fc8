// What the server hands every script: URLs and the flag reasons moderation takes.
// base.html writes them with json_script (nullboard/context_processors.py), so no
// script hard-codes a path or a list the server owns.
const block = document.getElementById("client-config");
if (!block) throw new Error("This page has no client-config block: its scripts cannot run.");
const config = JSON.parse(block.textContent);

// The path for a URL name, its ":name" parts filled in (encoded) from ``params``.
export function url(name, params = {}) {
  const pattern = config.urls[name];
  if (pattern === undefined) throw new Error(`No URL named ${name} in the page's config.`);
  return pattern.replace(/:([a-z_]+)/g, (_part, key) => {
    if (!(key in params)) throw new Error(`URL ${name} needs ${key}.`);
    return encodeURIComponent(params[key]);
  });
}

// The live feed socket's address on this host (never the page URL: its fragment holds keys).
export function liveUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${config.live}`;
}

// [{reason, label}] in the server's order.
export const flagReasons = config.flag_reasons;
