// The share view: one link and one QR code per reader, "Copy all", a warning before
// leaving while some reader's link is uncopied, and the countdown. new.js calls
// showShare(data) after a create, with data = {id, url, qr_url, receipt_url, keys,
// max_views, expires_at, sealed}; the no-JS share page is server-rendered and only
// activated. The QR codes are drawn here, from the page's own data: the links, keys
// included, never leave the browser.
import { formatNumber, nt, t } from "../js/i18n.js";
import { encode } from "../vendor/uqr/uqr.js";
import { copyText, enableCopy } from "./copy.js";
import { startAll } from "./countdown.js";

const SVG = "http://www.w3.org/2000/svg";
const NOTHING_COPIED = t("The keys are not shown again: copy each reader's link before you leave.");
const SEALED = {
  browser: t("Sealed in your browser: the server never saw your message or these keys."),
  server: t("Sealed on the server, because JavaScript was off."),
};

// What one reader gets: the drop's link with their key in the fragment (never sent).
export function readerLink(url, key) {
  return `${url}#key=${key}`;
}

// The QR code of `text` as an SVG drawn from the encoder's module matrix with DOM calls.
export function drawQR(text, label) {
  // Medium error correction survives a glare or a scratched screen; four modules of
  // quiet zone is what scanners expect.
  const { data, size } = encode(text, { ecc: "M", border: 4 });
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("shape-rendering", "crispEdges");
  const paper = document.createElementNS(SVG, "rect");
  paper.setAttribute("width", String(size));
  paper.setAttribute("height", String(size));
  paper.setAttribute("fill", "#fff");
  let d = "";
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    });
  });
  const ink = document.createElementNS(SVG, "path");
  ink.setAttribute("d", d);
  ink.setAttribute("fill", "#000");
  svg.append(paper, ink);
  return svg;
}

function views(count) {
  return nt("%(count)s view", "%(count)s views", count);
}

// --- leaving before every reader's link is copied --------------------------
// One guard for the page: the share view is shown at most once per page load.
const guard = { readers: new Set(), copied: new Set(), done: false };

function uncopied() {
  return [...guard.readers].filter((n) => !guard.copied.has(n));
}

function warnBeforeLeaving(event) {
  if (guard.done || uncopied().length === 0) return;
  event.preventDefault();
  // Older browsers ask only when returnValue holds a message (none of them shows it).
  event.returnValue = t("The keys are not shown again.");
}

function sayProgress(root) {
  const status = root.querySelector("[data-share-status]");
  if (!status || guard.readers.size === 0) return;
  const left = uncopied();
  let message = t("Not copied yet: reader %(readers)s.", { readers: left.map(formatNumber).join(t(", reader ")) });
  if (guard.done) message = "";
  else if (guard.copied.size === 0) message = NOTHING_COPIED;
  else if (left.length === 0) message = t("All links copied.");
  status.textContent = message;
}

function markCopied(root, numbers) {
  for (const n of numbers) if (guard.readers.has(n)) guard.copied.add(n);
  sayProgress(root);
}

function watchCopies(root) {
  guard.readers = new Set([...root.querySelectorAll("[data-reader]")].map((el) => Number(el.dataset.reader)));
  guard.copied = new Set();
  guard.done = false;
  sayProgress(root);
  if (root.dataset.shareWatched) return;
  root.dataset.shareWatched = "1";
  root.addEventListener("copied", (event) => {
    const button = event.target;
    if (button.matches("[data-copy-all]")) markCopied(root, guard.readers);
    else if (button.dataset.copyReader) markCopied(root, [Number(button.dataset.copyReader)]);
  });
  // A link or key selected and copied by hand (Ctrl+C, the context menu) counts too.
  document.addEventListener("copy", () => {
    const text = String(window.getSelection());
    const found = [...root.querySelectorAll("[data-reader]")]
      .filter((el) => text.includes(el.querySelector("[data-reader-key]").textContent))
      .map((el) => Number(el.dataset.reader));
    markCopied(root, found);
  });
  window.addEventListener("beforeunload", warnBeforeLeaving);
}

// --- the view --------------------------------------------------------------
function copyAllText(root) {
  return [...root.querySelectorAll("[data-reader]")]
    .map((el) => `Reader ${el.dataset.reader}: ${el.querySelector("[data-reader-link]").textContent}`)
    .join("\n");
}

function drawReaderCodes(root) {
  for (const reader of root.querySelectorAll("[data-reader]")) {
    const figure = reader.querySelector("[data-reader-qr]");
    figure.querySelector("svg")?.remove();
    const link = reader.querySelector("[data-reader-link]").textContent;
    figure.prepend(drawQR(link, `QR code of reader ${reader.dataset.reader}'s link, with their key`));
    figure.hidden = false;
  }
}

// Phones hand a link to another app through the system's share sheet; the page
// never sees where it went, only that it went (the promise resolves).
function enableShareSheet(root) {
  for (const reader of root.querySelectorAll("[data-reader]")) {
    const button = reader.querySelector("[data-reader-share]");
    const url = reader.querySelector("[data-reader-link]").textContent;
    if (!navigator.share || !(navigator.canShare?.({ url }) ?? true)) continue;
    button.hidden = false;
    if (button.dataset.shareReady) continue;
    button.dataset.shareReady = "1";
    button.addEventListener("click", async () => {
      try {
        await navigator.share({ title: `A drop for reader ${reader.dataset.reader}`, url });
      } catch {
        return; // the reader closed the sheet: nothing was sent anywhere
      }
      markCopied(root, [Number(reader.dataset.reader)]);
    });
  }
}

export function activateShare(root) {
  drawReaderCodes(root);
  enableCopy(root);
  enableShareSheet(root);
  watchCopies(root);
  const all = root.querySelector("[data-copy-all]");
  if (all && !all.dataset.copyReady) {
    all.dataset.copyReady = "1";
    // Without the clipboard, the whole list is selected for Ctrl+C.
    all.addEventListener("click", () => copyText(all, copyAllText(root), root.querySelector("[data-share-keys]")));
  }
  if (all) all.hidden = false;
  startAll(root, () => {
    // Expired keys open nothing: no reason left to keep anyone on the page.
    guard.done = true;
    root.classList.add("expired");
    sayProgress(root);
    const line = root.querySelector(".countdown-line");
    if (line) line.textContent = t("This drop has expired: the links no longer open it.");
  });
}

function readerBlock(template, url, key, n) {
  const block = template.content.firstElementChild.cloneNode(true);
  block.dataset.reader = String(n);
  block.setAttribute("aria-labelledby", `reader-${n}-title`);
  const title = block.querySelector("[data-reader-title]");
  title.id = `reader-${n}-title`;
  title.textContent = t("Reader %(n)s", { n });
  block.querySelector("[data-reader-caption]").textContent = t(
    "Holds reader %(n)s's link with their key: scan it, then press Open.",
    { n },
  );
  const link = block.querySelector("[data-reader-link]");
  link.id = `reader-link-${n}`;
  link.textContent = readerLink(url, key);
  const code = block.querySelector("[data-reader-key]");
  code.id = `key-${n}`;
  code.textContent = key;
  const copyLink = block.querySelector("[data-reader-copy-link]");
  copyLink.dataset.copy = link.id;
  copyLink.dataset.copyReader = String(n);
  copyLink.textContent = t("Copy link for reader %(n)s", { n });
  block.querySelector("[data-reader-share]").setAttribute("aria-label", t("Share reader %(n)s's link", { n }));
  const copyKey = block.querySelector("[data-reader-copy-key]");
  copyKey.dataset.copy = code.id;
  copyKey.dataset.copyReader = String(n);
  copyKey.setAttribute("aria-label", t("Copy key %(n)s alone", { n }));
  return block;
}

export function showShare(data) {
  const share = document.getElementById("share");
  share.querySelector("[data-share-link]").value = data.url;
  const qr = share.querySelector("[data-share-qr]");
  qr.src = data.qr_url;
  qr.hidden = false;
  const sealed = share.querySelector("[data-share-sealed]");
  sealed.textContent = SEALED[data.sealed] ?? "";
  sealed.hidden = !SEALED[data.sealed];
  const template = share.querySelector("[data-reader-template]");
  share
    .querySelector("[data-share-keys]")
    .replaceChildren(...data.keys.map((key, i) => readerBlock(template, data.url, key, i + 1)));
  share.querySelector("[data-share-expires]").dataset.expiresAt = String(data.expires_at);
  share.querySelector("[data-share-views]").textContent = views(data.max_views);
  const firstOnly = share.querySelector("[data-share-first-only]");
  firstOnly.textContent = nt(
    "Only the first reader to open it will read it: the other links then stop working.",
    "Only the first %(count)s readers to open it will read it: the other links then stop working.",
    data.max_views,
  );
  firstOnly.hidden = data.max_views >= data.keys.length;
  share.querySelector("[data-share-receipt]").href = data.receipt_url;
  document.getElementById("compose").hidden = true;
  share.hidden = false;
  activateShare(share);
  document.getElementById("share-title").tabIndex = -1;
  document.getElementById("share-title").focus();
}

const share = document.getElementById("share");
if (share && !share.hidden) activateShare(share);
