// Feed pages: home, a topic, or a private room. Loads, decrypts, posts, goes live,
// and after any gap in the live feed fetches exactly the posts it missed.
import { getJSON, postWithWork } from "../js/api.js";
import { url } from "../js/config.js";
import { t } from "../js/i18n.js";
import { announceArrival } from "./announce.js";
import { charactersLeft, encrypt, roomKey, roomSecretFromLocation, topicKey } from "./crypto.js";
import { knownSecret, myRooms, passphraseSecret, tabRooms } from "./keep.js";
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
import { bumpCommentCount, insertSorted, keepScroll, renderPost, wireComposer } from "./render.js";
import { renderTrending, wireShowHidden } from "./sidebar.js";

const MAX_CATCH_UP_PAGES = 25;

const list = root.querySelector("[data-posts]");
const more = root.querySelector("[data-more]");
let secret = room ? knownSecret(room, kdf) : null;
// Post links carry a link room's key; a passphrase room's posts find theirs in this tab.
let keySuffix = secret && !kdf ? `#k=${secret}` : "";
let cursor = null; // the next older page
const newest = new Newest(); // where a catch-up starts
let loaded = null; // the first page's promise
let live = null;

function keyFor(post) {
  if (post.room) return roomKey(secret);
  return topicKey(post.topic);
}

function textOf(item) {
  return readable(item, () => keyFor(item));
}

function find(id) {
  return findIn(list, id);
}

// Render several posts (decrypting in parallel), then place the new ones at once.
async function showAll(posts) {
  const rendered = await Promise.all(
    posts.map(async (post) => [post, renderPost(post, await textOf(post), { keySuffix })]),
  );
  keepScroll(
    () => [...(form.contains(document.activeElement) ? [form] : []), ...list.children, more],
    () => {
      for (const [post, node] of rendered) {
        newest.hold(post);
        if (find(post.id)) continue; // a live event and a fetch can bring the same post
        insertSorted(list, node, post.cursor, { newestFirst: true });
      }
    },
  );
  empty.hidden = list.children.length > 0;
  return rendered.map(([, node]) => node);
}

function feedQuery(extra) {
  const query = new URLSearchParams();
  if (topic) query.set("topic", topic);
  if (room) query.set("room", room);
  for (const [name, value] of Object.entries(extra)) if (value !== null) query.set(name, value);
  return `${url("api-posts")}?${query}`;
}

async function loadPage() {
  more.disabled = true;
  try {
    const page = await getJSON(feedQuery({ cursor }));
    const fresh = page.items.filter((post) => !find(post.id));
    for (const [post, node] of await Promise.all(
      fresh.map(async (post) => [post, renderPost(post, await textOf(post), { keySuffix })]),
    )) {
      newest.hold(post);
      if (!find(post.id)) list.append(node); // older pages go below what is held
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
    return page.items;
  } finally {
    more.disabled = false;
  }
}

// Fetch every post newer than the newest held (all of them when none is held).
async function fetchMissed() {
  const after = newest.after();
  const found = [];
  let pageCursor = null;
  for (let n = 0; n < MAX_CATCH_UP_PAGES; n++) {
    const page = await getJSON(feedQuery({ after: String(after), cursor: pageCursor }));
    found.push(...page.items);
    pageCursor = page.next_cursor;
    if (!pageCursor) break;
  }
  await showAll(found.filter((post) => !find(post.id)));
}

function onEvent(event, payload) {
  if (event === "post:new" || event === "post:restored") {
    if (event === "post:new" && !find(payload.id)) announceArrival("post", payload.author);
    showAll([payload]);
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

function keyProblem(wrong) {
  if (!wrong) return showKeyProblem();
  showKeyProblem({
    title: t("This link's key does not open the room"),
    text: t(
      "The part after #k= at the end of the link is not this room's key: it may have been cut short or changed when the link was copied. Nothing of the room can be shown without the right key, and we never see it, so we cannot open the room for you.",
    ),
  });
}

// A passphrase room asks for it, derives the key here and shows the room only
// when the key opens the room's check; a wrong one shows nothing of the room.
function askPassphrase() {
  const passForm = root.querySelector("[data-passphrase-form]");
  const input = passForm.querySelector("[data-passphrase-input]");
  const status = passForm.querySelector("[data-passphrase-status]");
  passForm.hidden = false;
  // Nothing of the room in the DOM until the key opens it; put back after.
  const invite = root.querySelector("[data-invite]");
  const [bodyAt, inviteAt] = [
    [body.parentNode, body.nextSibling],
    [invite.parentNode, invite.nextSibling],
  ];
  body.remove();
  invite.remove();
  input.focus();
  return new Promise((resolve) => {
    passForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = passForm.querySelector("button");
      button.disabled = true;
      status.classList.remove("error");
      status.textContent = t("Deriving the room's key…");
      try {
        const derived = await passphraseSecret(input.value, kdf, roomSecretFromLocation());
        if (await secretOpens(derived)) {
          tabRooms.set(room, derived);
          inviteAt[0].insertBefore(invite, inviteAt[1]);
          bodyAt[0].insertBefore(body, bodyAt[1]);
          passForm.remove();
          resolve(derived);
          return;
        }
        status.textContent = t("That passphrase does not open this room. Nothing of the room is shown.");
      } catch (error) {
        status.textContent = error.message;
      }
      status.classList.add("error");
      button.disabled = false;
      input.select();
    });
  });
}

function wireRemember() {
  const box = root.querySelector("[data-remember]");
  box.checked = Boolean(myRooms.get(room));
  box.addEventListener("change", () => {
    if (box.checked) myRooms.remember({ room, secret, kind: kdf ? "passphrase" : "link" });
    else myRooms.forget(room);
  });
}

function wireInvite() {
  const invite = root.querySelector("[data-invite-link]");
  root.querySelector("[data-invite]").hidden = false;
  // A passphrase room's link carries no key (or only the link half when both are needed).
  const linkKey = kdf ? (kdf.link ? roomSecretFromLocation() : null) : secret;
  invite.value = `${location.origin}${location.pathname}${linkKey ? `#k=${linkKey}` : ""}`;
  const status = root.querySelector("[data-copy-status]");
  root.querySelector("[data-copy-invite]").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(invite.value);
      status.textContent = kdf
        ? t("Copied. They also need the passphrase: tell it another way.")
        : t("Copied. Anyone with this link can read the room.");
    } catch {
      invite.select();
      status.textContent = t("Select the link above and copy it.");
    }
  });
}

function wireComposerForFeed() {
  wireComposer(form, {
    charactersLeft,
    onSubmit: async (text) => {
      // On the home feed the writer picks the topic.
      const chosen = topic || form.querySelector("[data-topic-select]")?.value;
      const key = room ? await roomKey(secret) : await topicKey(chosen);
      const target = room ? { room } : { topic: chosen };
      const post = await postWithWork(url("api-posts"), { ...target, blob: await encrypt(key, text) });
      await showAll([post]);
    },
  });
}

function start() {
  body.hidden = false;
  wireComposerForFeed();
  wireShowHidden(list);
  more.addEventListener("click", () => loadPage());
  live = goLive({
    target: room ? { room } : topic ? { topic } : { feed: "home" },
    onEvent,
    fetchMissed,
    ready: () => loaded,
  });
  loaded = loadPage();
  return loaded;
}

async function main() {
  if (!room) {
    await start();
    return;
  }
  let opens = await secretOpens(secret);
  if (opens === false && kdf) {
    if (kdf.link && !roomSecretFromLocation()) {
      keyProblem(false);
      return;
    }
    secret = await askPassphrase();
    opens = true;
  } else if (opens === false) {
    keyProblem(Boolean(secret) || /[#&]k=/.test(location.hash));
    return;
  }
  if (kdf) root.querySelector("[data-passphrase-form]")?.remove();
  keySuffix = kdf ? "" : `#k=${secret}`;
  wireInvite();
  wireRemember();
  const items = await start();
  // A room made without a key check: a key that opens none of its posts is wrong.
  if (opens === null && items.length > 0 && [...list.querySelectorAll(".body.undecryptable")].length === items.length) {
    live.stop();
    keyProblem(true);
  }
}

main().catch((error) => {
  empty.hidden = false;
  empty.textContent = t("Could not load posts: %(reason)s", { reason: error.message });
});
