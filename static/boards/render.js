// Rendering posts and comments. User text only ever goes in through textContent.
import { postJSON } from "../js/api.js";
import { localHidden } from "./sidebar.js";

const FLAG_REASONS = [
  ["spam", "Spam"],
  ["harassment", "Harassment"],
  ["illegal", "Illegal content"],
  ["doxxing", "Doxxing"],
  ["malware", "Malware or phishing"],
  ["other", "Something else"],
];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeNode(seconds) {
  const when = new Date(seconds * 1000);
  const node = el("time", "when", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  node.dateTime = when.toISOString();
  node.title = when.toLocaleString();
  return node;
}

function hideButton(item, node) {
  const button = el("button", "link-button", "Hide");
  button.type = "button";
  const sync = () => {
    const hidden = localHidden.has(item.id);
    node.classList.toggle("locally-hidden", hidden);
    button.textContent = hidden ? "Unhide" : "Hide";
    button.setAttribute("aria-label", hidden ? "Unhide on this device" : "Hide on this device");
  };
  button.addEventListener("click", () => {
    localHidden.toggle(item.id);
    sync();
  });
  sync();
  return button;
}

// A community flag: a small menu of reasons. Enough distinct visitors' flags
// hide the item for everyone until an operator looks at it.
function flagControl(kind, item) {
  const menu = el("details", "flag-menu");
  const summary = el("summary", "link-button", "Flag");
  summary.setAttribute("aria-label", `Flag this ${kind} for moderators`);
  const options = el("div", "flag-options");
  options.setAttribute("role", "group");
  options.setAttribute("aria-label", "Why flag it?");
  const status = el("span", "status");
  status.setAttribute("role", "status");
  for (const [reason, label] of FLAG_REASONS) {
    const button = el("button", "link-button", label);
    button.type = "button";
    button.dataset.reason = reason;
    button.addEventListener("click", async () => {
      for (const b of options.querySelectorAll("button")) b.disabled = true;
      try {
        await postJSON("/api/flags", { type: kind, id: item.id, reason });
        status.textContent = "Flagged. Thank you.";
        summary.textContent = "Flagged";
        menu.open = false;
      } catch (error) {
        status.textContent = `Not flagged: ${error.message}`;
        for (const b of options.querySelectorAll("button")) b.disabled = false;
      }
    });
    options.append(button);
  }
  menu.append(summary, options);
  const wrap = el("span", "flag");
  wrap.append(menu, status);
  return wrap;
}

// ``text`` is the decrypted text, or null when it could not be decrypted.
export function renderPost(post, text, { link = true, keySuffix = "" } = {}) {
  const node = el("li", "post panel");
  node.dataset.id = post.id;
  const head = el("header", "post-head row");
  head.append(el("span", "author mono", post.author));
  if (post.topic) {
    const topic = el("a", "topic", `#${post.topic}`);
    topic.href = `/topic/${encodeURIComponent(post.topic)}`;
    head.append(topic);
  }
  head.append(timeNode(post.created_at));
  const body = el("p", text === null ? "body undecryptable" : "body", text ?? "This post could not be decrypted.");
  const foot = el("footer", "post-foot row");
  const count = el("span", "comment-count");
  count.dataset.count = String(post.comment_count || 0);
  count.textContent = commentLabel(post.comment_count || 0);
  if (link) {
    const open = el("a", "open");
    open.href = `/post/${encodeURIComponent(post.id)}${keySuffix}`;
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
  return n === 1 ? "1 comment" : `${n} comments`;
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
  const head = el("header", "post-head row");
  head.append(el("span", "author mono", comment.author), timeNode(comment.created_at));
  const body = el("p", text === null ? "body undecryptable" : "body", text ?? "This comment could not be decrypted.");
  const foot = el("footer", "post-foot row");
  foot.append(hideButton(comment, node), flagControl("comment", comment));
  node.append(head, body, foot);
  return node;
}

// The composer: a byte counter against the limit, and a submit hook.
export function wireComposer(form, { blobSize, onSubmit }) {
  const area = form.querySelector("textarea");
  const counter = form.querySelector("[data-byte-count]");
  const status = form.querySelector("[data-composer-status]");
  const button = form.querySelector("button[type=submit]");
  const max = Number(form.dataset.maxBytes);
  const update = () => {
    const size = area.value ? blobSize(area.value) : 0;
    counter.textContent = `${size} / ${max} bytes encrypted`;
    const over = size > max;
    counter.classList.toggle("over", over);
    return over;
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
      status.textContent = "Write something first.";
      status.classList.add("error");
      return;
    }
    if (update()) {
      status.textContent = "That is over the size limit.";
      status.classList.add("error");
      return;
    }
    button.disabled = true;
    status.textContent = "Encrypting and proving work…";
    try {
      await onSubmit(text);
      area.value = "";
      update();
      status.textContent = "Sent.";
    } catch (error) {
      status.textContent = `Not sent: ${error.message}`;
      status.classList.add("error");
    } finally {
      button.disabled = false;
    }
  });
  update();
}
