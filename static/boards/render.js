// Rendering posts and comments. User text only ever goes in through textContent.
import { postWithWork } from "../js/api.js";
import { flagReasons, url } from "../js/config.js";
import { formatDateTime, lang, nt, t } from "../js/i18n.js";
import { localHidden } from "./sidebar.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeNode(seconds) {
  const when = new Date(seconds * 1000);
  const node = el("time", "when", formatDateTime(seconds, { hour: "2-digit", minute: "2-digit" }));
  node.dateTime = when.toISOString();
  node.title = formatDateTime(seconds);
  return node;
}

function hideButton(item, node) {
  const button = el("button", "link-button", t("Hide"));
  button.type = "button";
  const sync = () => {
    const hidden = localHidden.has(item.id);
    node.classList.toggle("locally-hidden", hidden);
    button.textContent = hidden ? t("Unhide") : t("Hide");
    button.setAttribute("aria-label", hidden ? t("Unhide on this device") : t("Hide on this device"));
  };
  button.addEventListener("click", () => {
    const hidden = localHidden.toggle(item.id);
    sync();
    if (hidden) {
      notify(node.matches(".comment") ? t("Comment hidden on this device.") : t("Post hidden on this device."), {
        undo: () => {
          if (localHidden.has(item.id)) localHidden.toggle(item.id);
          sync();
        },
      });
    }
  });
  sync();
  return button;
}

// One short notice at the foot of the page, optionally with Undo; it fades after a while.
let noticeTimer = null;
export function notify(text, { undo = null, ms = 10000 } = {}) {
  const bar = document.querySelector("[data-notice]");
  if (!bar) return;
  const undoButton = bar.querySelector("[data-notice-undo]");
  bar.querySelector("[data-notice-text]").textContent = text;
  undoButton.hidden = !undo;
  undoButton.onclick = undo
    ? () => {
        undo();
        bar.hidden = true;
      }
    : null;
  bar.querySelector("[data-notice-close]").onclick = () => {
    bar.hidden = true;
  };
  bar.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    bar.hidden = true;
  }, ms);
}

// A menu opens above its link; below it when the sticky top bar (or the top of
// the screen) would cover it, as for a post just under the bar on a phone.
function placeMenu(menu, options) {
  if (!menu.open) return;
  menu.classList.remove("opens-down");
  const bar = document.querySelector(".topbar");
  const covered = bar ? bar.getBoundingClientRect().bottom : 0;
  if (options.getBoundingClientRect().top < Math.max(covered, 0)) {
    menu.classList.add("opens-down");
    options.scrollIntoView({ block: "nearest" });
  }
}

// A community flag: a small menu of reasons. Enough distinct visitors' flags
// hide the item for everyone until an operator looks at it.
function flagControl(kind, item) {
  const menu = el("details", "flag-menu");
  const summary = el("summary", "link-button", t("Flag"));
  summary.setAttribute(
    "aria-label",
    kind === "comment" ? t("Flag this comment for moderators") : t("Flag this post for moderators"),
  );
  const options = el("div", "flag-options");
  options.setAttribute("role", "group");
  options.setAttribute("aria-label", t("Why flag it?"));
  const status = el("span", "status");
  status.setAttribute("role", "status");
  for (const { reason, label } of flagReasons) {
    const button = el("button", "link-button", label);
    button.type = "button";
    button.dataset.reason = reason;
    button.addEventListener("click", async () => {
      for (const b of options.querySelectorAll("button")) b.disabled = true;
      status.textContent = t("Sending your flag…");
      try {
        // A flag costs a proof of work, like every other write.
        const answer = await postWithWork(url("api-flags"), { type: kind, id: item.id, reason });
        status.textContent = t("Flagged. Thank you.");
        summary.textContent = t("Flagged");
        menu.open = false;
        if (answer.hidden === true) {
          // The item leaves this page too (live event): say why, where it stays visible.
          notify(
            kind === "comment"
              ? t("Thank you: your flag hid this comment for everyone until a moderator reviews it.")
              : t("Thank you: your flag hid this post for everyone until a moderator reviews it."),
          );
        }
      } catch (error) {
        status.textContent = t("Not flagged: %(reason)s", { reason: error.message });
        for (const b of options.querySelectorAll("button")) b.disabled = false;
      }
    });
    options.append(button);
  }
  const rules = el("a", "flag-rules", t("Community rules"));
  rules.href = url("rules");
  options.append(rules);
  menu.append(summary, options);
  menu.addEventListener("toggle", () => placeMenu(menu, options));
  const wrap = el("span", "flag");
  wrap.append(menu, status);
  return wrap;
}

// ``text`` is the decrypted text, or null when it could not be decrypted.
export function renderPost(post, text, { link = true, keySuffix = "" } = {}) {
  const node = el("li", "post panel");
  node.dataset.id = post.id;
  node.dataset.cursor = post.cursor || "";
  const head = el("header", "post-head row");
  head.append(el("span", "author mono", post.author));
  if (post.topic) {
    // Isolated (like the templates' <bdi>), so "#slug" reads the same in right-to-left pages.
    const topic = el("a", "topic");
    topic.append(el("bdi", null, `#${post.topic}`));
    topic.href = url("topic", { topic: post.topic });
    head.append(topic);
  }
  head.append(timeNode(post.created_at));
  const body = el("p", text === null ? "body undecryptable" : "body", text ?? t("This post could not be decrypted."));
  const foot = el("footer", "post-foot row");
  const count = el("span", "comment-count");
  count.dataset.count = String(post.comment_count || 0);
  count.textContent = commentLabel(post.comment_count || 0);
  if (link) {
    const open = el("a", "open");
    open.href = `${url("post", { post_id: post.id })}${keySuffix}`;
    open.append(count);
    foot.append(open);
  } else {
    foot.append(count);
  }
  foot.append(hideButton(post, node), flagControl("post", post));
  node.append(head, body, foot);
  return node;
}

export function commentLabel(n) {
  return nt("%(count)s comment", "%(count)s comments", n);
}

export function bumpCommentCount(node, by = 1) {
  const count = node.querySelector(".comment-count");
  if (!count) return;
  const n = Math.max(0, Number(count.dataset.count || 0) + by);
  count.dataset.count = String(n);
  count.textContent = commentLabel(n);
}

export function renderComment(comment, text) {
  const node = el("li", "comment");
  node.dataset.id = comment.id;
  node.dataset.cursor = comment.cursor || "";
  const head = el("header", "post-head row");
  head.append(el("span", "author mono", comment.author), timeNode(comment.created_at));
  const body = el(
    "p",
    text === null ? "body undecryptable" : "body",
    text ?? t("This comment could not be decrypted."),
  );
  const foot = el("footer", "post-foot row");
  foot.append(hideButton(comment, node), flagControl("comment", comment));
  node.append(head, body, foot);
  return node;
}

// The counter's figure in the reader's digits, ungrouped (6115, ۶۱۱۵): it changes at each key.
const digits = new Intl.NumberFormat(lang, { useGrouping: false });

// The composer: characters left against the limit, and a submit hook. Its
// controls ship disabled (nothing can be sent without this script) and come on here.
export function wireComposer(form, { charactersLeft, onSubmit }) {
  const area = form.querySelector("textarea");
  const counter = form.querySelector("[data-char-count]");
  const status = form.querySelector("[data-composer-status]");
  const button = form.querySelector("button[type=submit]");
  const max = Number(form.dataset.maxBytes);
  const update = () => {
    const left = charactersLeft(area.value, max);
    counter.textContent =
      left >= 0
        ? nt("%(count)s character left", "%(count)s characters left", left, { count: digits.format(left) })
        : nt("%(count)s character over the limit", "%(count)s characters over the limit", -left, {
            count: digits.format(-left),
          });
    counter.classList.toggle("over", left < 0);
    return left < 0;
  };
  area.addEventListener("input", update);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = area.value.trim();
    status.classList.remove("error");
    if (!text) {
      status.textContent = t("Write something first.");
      status.classList.add("error");
      return;
    }
    if (update()) {
      status.textContent = t("That is too long: shorten it a little.");
      status.classList.add("error");
      return;
    }
    button.disabled = true;
    status.textContent = t("Encrypting and sending…");
    try {
      await onSubmit(text);
      // Only what was sent is cleared: words typed meanwhile (the post may show
      // through the live feed before this answer) stay.
      if (area.value.trim() === text) area.value = "";
      update();
      status.textContent = t("Sent.");
    } catch (error) {
      status.textContent = t("Not sent: %(reason)s", { reason: error.message });
      status.classList.add("error");
    } finally {
      button.disabled = false;
    }
  });
  update();
  form.querySelector("[data-composer-fields]").disabled = false;
}

// Insert ``node`` (an item with ``cursor``) where its cursor sorts: feeds are
// newest first, comments oldest first. Items without a cursor go first/last.
export function insertSorted(list, node, cursor, { newestFirst }) {
  node.dataset.cursor = cursor || "";
  const mine = Number(cursor || 0);
  for (const other of list.children) {
    const theirs = Number(other.dataset.cursor || 0);
    if (!mine || !theirs) continue;
    if (newestFirst ? theirs < mine : theirs > mine) {
      list.insertBefore(node, other);
      return;
    }
  }
  if (newestFirst && !mine) list.prepend(node);
  else list.append(node);
}

// Run ``change`` (which adds items to the page) without moving what the reader
// is looking at: the first of ``candidates()`` on screen keeps its place there.
export function keepScroll(candidates, change) {
  if (window.scrollY <= 0) {
    change();
    return;
  }
  const onScreen = (node) => {
    const box = node.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  };
  const anchor = candidates().find(onScreen);
  const before = anchor ? anchor.getBoundingClientRect().top : 0;
  change();
  if (anchor?.isConnected) {
    const moved = anchor.getBoundingClientRect().top - before;
    if (moved) window.scrollBy(0, moved);
  }
}
