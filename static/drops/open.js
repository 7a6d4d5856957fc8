// The key form: a key in the fragment (#key=...) fills it, and a click opens the drop.
// This page derives the key's verifier (with the passphrase), posts only that, then
// unwraps the data key and decrypts here: the key and passphrase never leave the page.

import { ApiError, postJSON } from "../js/api.js";
import { url } from "../js/config.js";
import { nt, t } from "../js/i18n.js";
import { countdown } from "./countdown.js";
import { activateOpened, holdUntil } from "./opened.js";
import { accessKeyNormalize, dropOpen, fromBase64, keyDerive } from "./seal.js";

const form = document.getElementById("open-form");
const input = document.getElementById("key");
const passphrase = document.getElementById("passphrase");
const status = document.getElementById("open-status");
const keyStep = document.getElementById("key-step");
const opened = document.getElementById("opened");
const dropId = form.dataset.dropId;
const maxSeconds = Number(form.dataset.voiceMaxSeconds) || 60;
const GONE = t("This drop is gone: it expired, was burned, or never existed.");

function keyFromFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    input.value = key;
    // Keep the key out of the address bar and history once it is in the form.
    history.replaceState(null, "", window.location.pathname);
  }
}

// The container's first bytes: WebM (EBML), Ogg or MP4 ("ftyp" at 4), as the server checks.
function containerOf(bytes) {
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return "audio/webm";
  if (String.fromCharCode(...bytes.subarray(0, 4)) === "OggS") return "audio/ogg";
  if (String.fromCharCode(...bytes.subarray(4, 8)) === "ftyp") return "audio/mp4";
  return null;
}

// Resolve once the player knows the duration; refuse a recording longer than the cap.
function checkDuration(player) {
  return new Promise((resolve, reject) => {
    const done = () => {
      const seconds = player.duration;
      // A live recording often states no duration (Infinity): the byte cap bounds it.
      if (Number.isFinite(seconds) && seconds > maxSeconds + 0.5)
        reject(new Error("This recording is longer than a voice note may be; it was not played."));
      else resolve();
    };
    player.addEventListener("loadedmetadata", done, { once: true });
    player.addEventListener("error", () => reject(new Error("This voice note could not be played.")), { once: true });
  });
}

async function playable(data, wrapKey, player) {
  // Fetch the single-use URL once and play from memory, so seeking never re-asks.
  const response = await fetch(data.audio_url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, "gone", "The voice note is no longer available.");
  const sealed = new Uint8Array(await response.arrayBuffer());
  const audio = await dropOpen({ wrapKey, wrapped: data.wrapped, ciphertext: sealed, dropId, kind: "voice" });
  const type = containerOf(audio);
  if (!type) throw new Error("This voice note is not a recording this page plays.");
  player.src = URL.createObjectURL(new Blob([audio], { type }));
  await checkDuration(player);
}

async function show(data, wrapKey) {
  const message = opened.querySelector("[data-message]");
  const player = opened.querySelector("[data-player]");
  if (data.kind === "text") {
    const text = await dropOpen({
      wrapKey,
      wrapped: data.wrapped,
      ciphertext: fromBase64(data.ciphertext),
      dropId,
      kind: "text",
    });
    message.textContent = new TextDecoder().decode(text);
    message.hidden = false;
  } else {
    await playable(data, wrapKey, player);
    player.hidden = false;
  }
  // The reader holds it now: at least 30 s on screen, even past the drop's own end.
  opened.querySelector("[data-opened-expires]").dataset.expiresAt = String(holdUntil(data.expires_at));
  opened.querySelector("[data-views-left]").textContent = data.views_left
    ? nt("%(count)s view left.", "%(count)s views left.", data.views_left)
    : t("That was the last view: the drop is burned.");
  opened.querySelector("[data-sealed-by]").textContent =
    data.sealed === "browser"
      ? t("Sealed in the sender's browser, opened in yours.")
      : t("Sealed on the server, because JavaScript was off when it was made; opened in your browser.");
  keyStep.hidden = true;
  opened.hidden = false;
  activateOpened(opened);
  opened.querySelector("h1").focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const key = accessKeyNormalize(input.value);
  if (!key) {
    status.textContent = t("That is not a key: a key has 28 letters and digits, in groups of four.");
    return;
  }
  button.disabled = true;
  status.textContent = "";
  try {
    const { wrapKey, verifier } = await keyDerive({
      key,
      dropId,
      salt: form.dataset.salt,
      iterations: Number(form.dataset.iterations),
      passphrase: passphrase ? passphrase.value : "",
    });
    const data = await postJSON(url("api-drop-open", { drop_id: dropId }), { verifier });
    await show(data, wrapKey);
    input.value = "";
    if (passphrase) passphrase.value = "";
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 410;
    status.textContent = gone ? GONE : error.message;
    if (gone) form.hidden = true;
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
    status.textContent = t("This drop has expired.");
    form.after(status);
  });
}
