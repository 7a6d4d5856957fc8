// The share page (also drawn by new.js after a drop is made): copy buttons, countdown.
// showShare(data) fills it from a create answer: {id, url, qr_url, receipt_url, keys,
// max_views, expires_at}.
import { startAll } from "./countdown.js";
import { enableCopy } from "./copy.js";

export function activateShare(root) {
  enableCopy(root);
  startAll(root, () => {
    const line = root.querySelector(".countdown-line");
    if (line) line.textContent = "This drop has expired.";
  });
}

export function showShare(data) {
  const share = document.getElementById("share");
  share.querySelector("[data-share-link]").value = data.url;
  const qr = share.querySelector("[data-share-qr]");
  qr.src = data.qr_url;
  qr.hidden = false;
  const list = share.querySelector("[data-share-keys]");
  list.replaceChildren();
  data.keys.forEach((key, i) => {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.id = `key-${i + 1}`;
    code.textContent = key;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "link-button";
    copy.dataset.copy = code.id;
    copy.setAttribute("aria-label", `Copy key ${i + 1}`);
    copy.textContent = "Copy";
    item.append(code, " ", copy);
    list.append(item);
  });
  share.querySelector("[data-share-expires]").dataset.expiresAt = String(data.expires_at);
  share.querySelector("[data-share-views]").textContent = String(data.max_views);
  share.querySelector("[data-share-receipt]").href = data.receipt_url;
  document.getElementById("compose").hidden = true;
  share.hidden = false;
  activateShare(share);
  document.getElementById("share-title").tabIndex = -1;
  document.getElementById("share-title").focus();
}

const share = document.getElementById("share");
if (share && !share.hidden) activateShare(share);
