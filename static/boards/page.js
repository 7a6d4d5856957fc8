// What the feed page (board.js) and the post page (post.js) share: their parts,
// decryption that keeps what cannot be read, the room key check, the key-problem
// notice, and the live socket that catches up on what it missed after each gap.
import { decrypt, keyOpens, roomKey } from "./crypto.js";
import { catchUpRunner, LiveFeed } from "./live.js";

// Web processes stamp items with their own clocks: a catch-up asks again from a
// little before the newest item held, and the ids drop what the page already has.
const CLOCK_SKEW_GRACE = 5 * 1000 * 1000; // 5 s in cursor units (ms * 1000)

export const root = document.getElementById("board");
export const { topic, room } = root.dataset;
export const body = root.querySelector("[data-feed-body]");
export const empty = root.querySelector("[data-empty]");
export const form = root.querySelector("[data-composer]");
export const kdf = root.dataset.kdf ? JSON.parse(root.dataset.kdf) : null; // a passphrase room

// The item with ``id`` in ``list``, if the page holds it.
export function findIn(list, id) {
  return list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
}

// The decrypted text of ``item`` under ``key()``, or null when it cannot be read.
export async function readable(item, key) {
  try {
    return await decrypt(await key(), item.blob);
  } catch {
    return null;
  }
}

// The highest cursor held, and where a catch-up after a gap starts from.
export class Newest {
  value = null;

  hold(item) {
    const value = Number(item.cursor || 0);
    if (value && (this.value === null || value > this.value)) this.value = value;
  }

  after() {
    return this.value === null ? 0 : Math.max(0, this.value - CLOCK_SKEW_GRACE);
  }
}

// True if ``secret`` opens this room's key check, null if the room has none.
export async function secretOpens(secret) {
  if (!secret) return false;
  let key;
  try {
    key = await roomKey(secret);
  } catch {
    return false;
  }
  return keyOpens(key, root.dataset.keyCheck);
}

// A room without its key (or with a wrong one) shows nothing of itself: the
// notice (with ``title`` and ``text`` when given), and no authors, times, counts,
// actions or composer, even in the DOM.
export function showKeyProblem({ title, text } = {}) {
  const box = root.querySelector("[data-missing-key]");
  if (title) box.querySelector("[data-key-problem-title]").textContent = title;
  if (text) box.querySelector("[data-key-problem-text]").textContent = text;
  box.hidden = false;
  body.remove();
  root.querySelector("[data-invite]")?.remove();
}

// Join ``target`` live; after each (re)subscription run ``fetchMissed`` once the
// first load (``ready()``) has settled. Returns the LiveFeed.
export function goLive({ target, onEvent, fetchMissed, ready, stopped, failed }) {
  let live = null;
  const catchUp = catchUpRunner(fetchMissed, { ready, alive: () => live?.socket, stopped, failed });
  live = new LiveFeed({
    onEvent,
    onJoined: () => catchUp(),
    statusElement: root.querySelector("[data-live-status]"),
  });
  live.join(target);
  live.start();
  return live;
}
