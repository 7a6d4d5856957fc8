// A post page: the post, its comments oldest first, a comment composer, live, and
// after any gap in the live feed exactly the comments it missed.
import { getJSON, postWithWork } from "../js/api.js";
import { url } from "../js/config.js";
import { t } from "../js/i18n.js";
import { announceArrival } from "./announce.js";
import { charactersLeft, encrypt, roomKey, topicKey } from "./crypto.js";
import { knownSecret } from "./keep.js";
import {
  body,
  empty,
  findIn,
  form,
  goLive,
  kdf,
  Newest,
  readable,
  room,
  root,
  secretOpens,
  showKeyProblem,
  topic,
} from "./page.js";
import { commentLabel, insertSorted, keepScroll, renderComment, renderPost, wireComposer } from "./render.js";
import { renderTrending, wireShowHidden } from "./sidebar.js";

const postId = root.dataset.post;
const postList = root.querySelector("[data-posts]");
const list = root.querySelector("[data-comments]");
const secret = room ? knownSecret(room, kdf) : null;
const postUrl = url("api-post", { post_id: postId });
const commentsUrl = url("api-comments", { post_id: postId });
const newest = new Newest(); // the highest comment cursor held
let loaded = null;
let live = null;
let ended = false;

async function key() {
  return room ? roomKey(secret) : topicKey(topic);
}

function textOf(item) {
  return readable(item, key);
}

function find(id) {
  return findIn(list, id);
}

// The post page holds every live comment, so the count is what the list shows.
function syncCount() {
  const count = postList.querySelector(".comment-count");
  if (!count) return;
  const n = list.children.length;
  count.dataset.count = String(n);
  count.textContent = commentLabel(n);
  empty.hidden = n > 0;
}

async function showComments(comments) {
  const rendered = await Promise.all(comments.map(async (c) => [c, renderComment(c, await textOf(c))]));
  keepScroll(
    // Someone writing a reply keeps the composer where it is; else the first item in sight.
    () => [...(form.contains(document.activeElement) ? [form] : []), ...postList.children, ...list.children, form],
    () => {
      for (const [comment, node] of rendered) {
        newest.hold(comment);
        if (find(comment.id)) continue; // live and catch-up can bring the same one
        insertSorted(list, node, comment.cursor, { newestFirst: false });
      }
    },
  );
  syncCount();
}

function end(text) {
  ended = true;
  live?.stop();
  postList.replaceChildren();
  list.replaceChildren();
  const note = document.createElement("li");
  note.className = "panel hint gone-note";
  note.textContent = text;
  postList.append(note);
  root.querySelector("[data-comments-section]").hidden = true;
}

const HIDDEN_TEXT = () =>
  t("This post is hidden pending review: several visitors flagged it, and a moderator will look at it.");
const GONE_TEXT = () => t("This post has expired or was removed.");

function onEvent(event, payload) {
  if (ended) return;
  const newComment = event === "comment:new" || event === "comment:restored";
  if (newComment && payload.post === postId) {
    if (event === "comment:new" && !find(payload.id)) announceArrival("comment", payload.author);
    showComments([payload]);
  } else if ((event === "comment:hidden" || event === "comment:removed") && payload.post === postId) {
    find(payload.id)?.remove();
    syncCount();
  } else if (event === "post:hidden" && payload.id === postId) {
    end(HIDDEN_TEXT());
  } else if (event === "post:removed" && payload.id === postId) {
    end(t("This post was removed by a moderator."));
  } else if (event === "topics:trending") {
    renderTrending(payload.items || []);
  }
}

function failed(error) {
  if (error.status === 410 && error.code === "hidden") end(HIDDEN_TEXT());
  else if (error.status === 404) end(GONE_TEXT());
  else throw error;
}

async function load() {
  const post = await getJSON(postUrl);
  postList.replaceChildren(renderPost(post, await textOf(post), { link: false }));
  const { items } = await getJSON(commentsUrl);
  await showComments(items);
}

// After a gap: is the post still there, and which comments came meanwhile?
async function fetchMissed() {
  await getJSON(postUrl);
  const { items } = await getJSON(`${commentsUrl}?after=${newest.after()}`);
  await showComments(items.filter((comment) => !find(comment.id)));
}

function keyProblem(wrong) {
  if (wrong) {
    showKeyProblem({
      title: t("This link's key does not open the room"),
      text: t(
        "The part after #k= is not this room's key: it may have been cut short or changed when the link was copied. Nothing of the room can be shown without the right key.",
      ),
    });
  } else if (kdf) {
    showKeyProblem({
      title: t("Open the room with its passphrase first"),
      text: t(
        "This post is in a room protected by a passphrase. Go back to the room, type the passphrase, and open the post from there.",
      ),
    });
  } else {
    showKeyProblem();
  }
}

async function main() {
  if (room) {
    const opens = await secretOpens(secret);
    if (opens === false) {
      keyProblem(Boolean(secret) || (!kdf && /[#&]k=/.test(location.hash)));
      return;
    }
    const back = root.querySelector("[data-room-link]");
    if (back && !kdf) back.href = `${url("room", { room })}#k=${secret}`;
  }
  body.hidden = false;
  wireComposer(form, {
    charactersLeft,
    onSubmit: async (text) => {
      const blob = await encrypt(await key(), text);
      await showComments([await postWithWork(`${postUrl}/comments`, { blob })]);
    },
  });
  wireShowHidden(list);
  wireShowHidden(postList);
  live = goLive({
    target: room ? { room } : { topic },
    onEvent,
    fetchMissed,
    ready: () => loaded,
    stopped: () => ended,
    failed,
  });
  loaded = load().catch(failed);
  await loaded;
}

main().catch((error) => {
  empty.hidden = false;
  empty.textContent = t("Could not load: %(reason)s", { reason: error.message });
});
