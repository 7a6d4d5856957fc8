// The key form: a key in the fragment (#key=...) fills it; opening works without reloads.
import { ApiError, postJSON } from "../js/api.js";
import { countdown } from "./countdown.js";
import { activateOpened } from "./opened.js";

const form = document.getElementById("open-form");
const input = document.getElementById("key");
const status = document.getElementById("open-status");
const keyStep = document.getElementById("key-step");
const opened = document.getElementById("opened");

function keyFromFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    input.value = key;
    // Keep the key out of the address bar and history once it is in the form.
    history.replaceState(null, "", window.location.pathname);
  }
}

async function playable(url) {
  // Fetch the single-use URL once and play from memory, so seeking never re-asks.
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, "gone", "The voice note is no longer available.");
  return URL.createObjectURL(await response.blob());
}

async function show(data) {
  const message = opened.querySelector("[data-message]");
  const player = opened.querySelector("[data-player]");
  if (data.kind === "text") {
    message.textContent = data.text;
    message.hidden = false;
  } else {
    player.src = await playable(data.audio_url);
    player.hidden = false;
  }
  opened.querySelector("[data-opened-expires]").dataset.expiresAt = String(data.expires_at);
  opened.querySelector("[data-views-left]").textContent = data.views_left
    ? `${data.views_left} view${data.views_left === 1 ? "" : "s"} left.`
    : "That was the last view: the drop is burned.";
  keyStep.hidden = true;
  opened.hidden = false;
  activateOpened(opened);
  opened.querySelector("h1").focus?.();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  status.textContent = "";
  try {
    const data = await postJSON(`/api/drops/${encodeURIComponent(form.dataset.dropId)}/open`, {
      key: input.value.trim(),
    });
    await show(data);
  } catch (error) {
    status.textContent = error instanceof ApiError && error.status === 410
      ? "This drop is gone: it expired, was burned, or never existed."
      : error.message;
    if (error instanceof ApiError && error.status === 410) form.hidden = true;
  } finally {
    button.disabled = false;
  }
});

keyFromFragment();

const life = keyStep.querySelector("[data-countdown]");
if (life) {
  countdown(life, () => {
    if (!opened.hidden) return;
    form.hidden = true;
    status.textContent = "This drop has expired.";
    form.after(status);
  });
}
