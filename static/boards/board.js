// Feed pages: home, a topic, or a private room. Loads, decrypts, posts, goes live.
import { getJSON, postWithWork } from "../js/api.js";
import { blobSize, decrypt, encrypt, roomKey, roomSecretFromLocation, topicKey } from "./crypto.js";
import { LiveFeed } from "./live.js";
import { bumpCommentCount, renderPost, wireComposer } from "./render.js";
import { renderTrending, wireShowHidden } from "./sidebar.js";

const root = document.getElementById("board");
const { topic, room } = root.dataset;
const list = root.querySelector("[data-posts]");
const empty = root.querySelector("[data-empty]");
const more = root.querySelector("[data-more]");
const secret = room ? roomSecretFromLocation() : null;
const keySuffix = secret ? `#k=${secret}` : "";
let cursor = null;

function keyFor(post) {
  if (post.room) return secret ? roomKey(secret) : Promise.reject(new Error("no key"));
  return topicKey(post.topic);
}

async function textOf(item) {
  try {
    return await decrypt(await keyFor(item), item.blob);
  } catch {
    return null;
  }
}

function find(id) {
  return list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
}

async function show(post, { prepend }) {
  if (find(post.id)) return;
  const node = renderPost(post, await textOf(post), { keySuffix });
  if (find(post.id)) return; // arrived twice while decrypting (live + our own answer)
  if (prepend) list.prepend(node);
  else list.append(node);
  empty.hidden = true;
}

async function loadPage() {
  const query = new URLSearchParams();
  if (topic) query.set("topic", topic);
  if (room) query.set("room", room);
  if (cursor) query.set("cursor", cursor);
  more.disabled = true;
  try {
    const page = await getJSON(`/api/posts?${query}`);
    for (const post of page.items) await show(post, { prepend: false });
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  } finally {
    more.disabled = false;
  }
}

function onEvent(event, payload) {
  if (event === "post:new" || event === "post:restored") {
    show(payload, { prepend: true });
  } else if (event === "comment:new" || event === "comment:restored") {
    const node = find(payload.post);
    if (node) bumpCommentCount(node, 1);
  } else if (event === "comment:hidden" || event === "comment:removed") {
    const node = find(payload.post);
    if (node) bumpCommentCount(node, -1);
  } else if (event === "post:hidden" || event === "post:removed") {
    find(payload.id)?.remove();
    empty.hidden = list.children.length > 0;
  } else if (event === "topics:trending") {
    renderTrending(payload.items || []);
  }
}

function wireRoom() {
  const invite = root.querySelector("[data-invite-link]");
  const missing = root.querySelector("[data-missing-key]");
  if (!secret) {
    missing.hidden = false;
    root.querySelector("[data-invite]").hidden = true;
    const form = root.querySelector("[data-composer]");
    form.querySelector("textarea").disabled = true;
    form.querySelector("button").disabled = true;
    return;
  }
  invite.value = `${location.origin}${location.pathname}#k=${secret}`;
  const status = root.querySelector("[data-copy-status]");
  root.querySelector("[data-copy-invite]").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(invite.value);
      status.textContent = "Copied. Anyone with this link can read the room.";
    } catch {
      invite.select();
      status.textContent = "Select the link above and copy it.";
    }
  });
}

function wireComposerForFeed() {
  const form = root.querySelector("[data-composer]");
  if (!form) return;
  wireComposer(form, {
    blobSize,
    onSubmit: async (text) => {
      // On the home feed the writer picks the topic.
      const chosen = topic || form.querySelector("[data-topic-select]")?.value;
      const key = room ? await roomKey(secret) : await topicKey(chosen);
      const target = room ? { room } : { topic: chosen };
      const post = await postWithWork("/api/posts", { ...target, blob: await encrypt(key, text) });
      await show(post, { prepend: true });
    },
  });
}

if (room) wireRoom();
wireComposerForFeed();
wireShowHidden(list);
more.addEventListener("click", () => loadPage());

const live = new LiveFeed({ onEvent, statusElement: root.querySelector("[data-live-status]") });
live.join(room ? { room } : topic ? { topic } : { feed: "home" });
live.start();
loadPage().catch((error) => {
  empty.hidden = false;
  empty.textContent = `Could not load posts: ${error.message}`;
});
