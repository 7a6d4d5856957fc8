// A post page: the post, its comments oldest first, a comment composer, live.
import { getJSON, postWithWork } from "../js/api.js";
import { blobSize, decrypt, encrypt, roomKey, roomSecretFromLocation, topicKey } from "./crypto.js";
import { LiveFeed } from "./live.js";
import { bumpCommentCount, renderComment, renderPost, wireComposer } from "./render.js";
import { renderTrending, wireShowHidden } from "./sidebar.js";

const root = document.getElementById("board");
const { post: postId, topic, room } = root.dataset;
const postList = root.querySelector("[data-posts]");
const list = root.querySelector("[data-comments]");
const empty = root.querySelector("[data-empty]");
const form = root.querySelector("[data-composer]");
const secret = room ? roomSecretFromLocation() : null;

async function key() {
  if (room) {
    if (!secret) throw new Error("no key");
    return roomKey(secret);
  }
  return topicKey(topic);
}

async function textOf(item) {
  try {
    return await decrypt(await key(), item.blob);
  } catch {
    return null;
  }
}

function find(id) {
  return list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
}

async function showComment(comment) {
  if (find(comment.id)) return false;
  const node = renderComment(comment, await textOf(comment));
  if (find(comment.id)) return false;
  list.append(node);
  empty.hidden = true;
  return true;
}

function gone() {
  postList.replaceChildren();
  list.replaceChildren();
  const note = document.createElement("li");
  note.className = "panel hint";
  note.textContent = "This post was removed or has expired.";
  postList.append(note);
  form.hidden = true;
}

function onEvent(event, payload) {
  const newComment = event === "comment:new" || event === "comment:restored";
  if (newComment && payload.post === postId) {
    showComment(payload).then((added) => {
      if (added) bumpCommentCount(postList, 1);
    });
  } else if ((event === "comment:hidden" || event === "comment:removed") && payload.post === postId) {
    if (find(payload.id)) {
      find(payload.id).remove();
      bumpCommentCount(postList, -1);
    }
  } else if ((event === "post:hidden" || event === "post:removed") && payload.id === postId) {
    gone();
  } else if (event === "topics:trending") {
    renderTrending(payload.items || []);
  }
}

async function load() {
  const post = await getJSON(`/api/posts/${encodeURIComponent(postId)}`);
  postList.replaceChildren(renderPost(post, await textOf(post), { link: false }));
  const { items } = await getJSON(`/api/posts/${encodeURIComponent(postId)}/comments`);
  for (const comment of items) await showComment(comment);
  empty.hidden = list.children.length > 0;
}

if (room && !secret) {
  root.querySelector("[data-missing-key]").hidden = false;
  form.querySelector("textarea").disabled = true;
  form.querySelector("button").disabled = true;
}
if (room && secret) {
  const back = root.querySelector("[data-room-link]");
  if (back) back.href = `/r/${encodeURIComponent(room)}#k=${secret}`;
}

wireComposer(form, {
  blobSize,
  onSubmit: async (text) => {
    const blob = await encrypt(await key(), text);
    const comment = await postWithWork(`/api/posts/${encodeURIComponent(postId)}/comments`, { blob });
    if (await showComment(comment)) bumpCommentCount(postList, 1);
  },
});
wireShowHidden(list);
wireShowHidden(postList);

const live = new LiveFeed({ onEvent, statusElement: root.querySelector("[data-live-status]") });
live.join(room ? { room } : { topic });
live.start();
load().catch((error) => {
  if (error.status === 404) gone();
  else {
    empty.hidden = false;
    empty.textContent = `Could not load: ${error.message}`;
  }
});
