// New drop: text or voice tabs, the recorder, proof of work, then the share view.
// The browser seals the drop (static/drops/seal.js): the server gets only ciphertext,
// wrapped keys and verifiers, never the text, the recording, a key or the passphrase.

import { postForm, postWithWork, proofOfWork } from "../js/api.js";
import { url } from "../js/config.js";
import { formatClock, nt, t } from "../js/i18n.js";
import { accessKeyDisplay, dropSeal, toBase64 } from "./seal.js";
import { showShare } from "./share.js";

const form = document.getElementById("drop-form");
const status = document.getElementById("create-status");
const textarea = document.getElementById("drop-text");
const count = document.getElementById("text-count");
const tabs = form.querySelector("[role=tablist]");
const panes = { text: document.getElementById("text-pane"), voice: document.getElementById("voice-pane") };
const recordButton = document.getElementById("record");
const stopButton = document.getElementById("stop");
const clock = document.getElementById("rec-clock");
const level = document.getElementById("rec-level");
const announcer = document.getElementById("rec-announce");
const preview = document.getElementById("preview");
const maxSeconds = Number(form.dataset.voiceMaxSeconds);
const maxBytes = Number(form.dataset.voiceMaxBytes);
const passphrase = document.getElementById("drop-passphrase");
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"];
const ANNOUNCE_EVERY = 10; // seconds: often enough to follow, rare enough not to chatter

let kind = "text";
let recording = null;

// --- tabs -----------------------------------------------------------------
function select(name) {
  kind = name;
  for (const tab of tabs.querySelectorAll("[role=tab]")) {
    const on = tab.getAttribute("aria-controls") === `${name}-pane`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  panes.text.hidden = name !== "text";
  panes.voice.hidden = name !== "voice";
  textarea.required = name === "text";
}

tabs.hidden = !(window.MediaRecorder && navigator.mediaDevices);
form.querySelector(".sealed-note[data-needs-js]").hidden = false;
tabs.addEventListener("click", (event) => {
  const tab = event.target.closest("[role=tab]");
  if (tab) select(tab.getAttribute("aria-controls").replace("-pane", ""));
});
tabs.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const next = kind === "text" ? "voice" : "text";
  select(next);
  document.getElementById(`tab-${next}`).focus();
});

textarea.addEventListener("input", () => {
  count.textContent = nt("%(count)s of %(max)s character.", "%(count)s of %(max)s characters.", textarea.maxLength, {
    count: textarea.value.length,
    max: textarea.maxLength,
  });
});

// --- recorder -------------------------------------------------------------
function showClock(seconds) {
  const s = Math.floor(seconds);
  clock.textContent = formatClock(s);
}

const secondsText = (n) => nt("%(count)s second", "%(count)s seconds", n);

// The level meter: an AnalyserNode on the microphone, its loudness (RMS) on each frame.
// Returns a function that stops it.
function meterFor(stream) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return () => {};
  const audio = new Context();
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  audio.createMediaStreamSource(stream).connect(analyser);
  audio.resume();
  const samples = new Float32Array(analyser.fftSize);
  let frame = 0;
  const draw = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    // Speech sits around 0.05-0.2 RMS; scale it so a normal voice fills half the meter.
    level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    frame = requestAnimationFrame(draw);
  };
  draw();
  return () => {
    cancelAnimationFrame(frame);
    level.value = 0;
    audio.close();
  };
}

async function startRecording() {
  status.textContent = "";
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch {
    status.textContent = t("The microphone is not available; allow it and try again.");
    return;
  }
  const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
  const chunks = [];
  const started = performance.now();
  let spoken = 0;
  const timer = setInterval(() => {
    const elapsed = Math.floor((performance.now() - started) / 1000);
    showClock(elapsed);
    if (elapsed >= spoken + ANNOUNCE_EVERY) {
      spoken = elapsed - (elapsed % ANNOUNCE_EVERY);
      announcer.textContent = t("Recording: %(elapsed)s of %(max)s.", {
        elapsed: secondsText(spoken),
        max: maxSeconds,
      });
    }
  }, 200);
  const stopMeter = meterFor(stream);
  const limit = setTimeout(() => recorder.state === "recording" && recorder.stop(), maxSeconds * 1000);
  recorder.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
  recorder.addEventListener("stop", () => {
    clearInterval(timer);
    clearTimeout(limit);
    stopMeter();
    const took = Math.round((performance.now() - started) / 1000);
    announcer.textContent = t("Recorded %(elapsed)s. Listen to it, record again, or create the drop.", {
      elapsed: secondsText(took),
    });
    for (const track of stream.getTracks()) track.stop();
    const blob = new Blob(chunks, { type: (recorder.mimeType || "audio/webm").split(";")[0] });
    if (preview.src) URL.revokeObjectURL(preview.src);
    recording = blob;
    preview.src = URL.createObjectURL(blob);
    preview.hidden = false;
    form.classList.remove("recording");
    recordButton.textContent = t("Record again");
    recordButton.disabled = false;
    // Stop is about to be disabled under the keyboard's focus: move it to the recording.
    const hadFocus = document.activeElement === stopButton;
    stopButton.disabled = true;
    if (hadFocus) preview.focus();
    status.textContent = blob.size > maxBytes ? t("That recording is too large; record a shorter one.") : "";
  });
  recorder.start(250);
  announcer.textContent = nt(
    "Recording. It stops by itself after %(count)s second.",
    "Recording. It stops by itself after %(count)s seconds.",
    maxSeconds,
  );
  form.classList.add("recording");
  recordButton.disabled = true;
  stopButton.disabled = false;
  stopButton.onclick = () => recorder.state === "recording" && recorder.stop();
  stopButton.focus();
}

recordButton.addEventListener("click", startRecording);

// --- create ---------------------------------------------------------------
async function create() {
  const life = form.elements.ttl_seconds.value;
  const views = form.elements.max_views.value;
  const secret = passphrase.value;
  let sealed;
  let data;
  if (kind === "voice") {
    if (!recording) throw new Error("Record a voice note first.");
    if (recording.size > maxBytes) throw new Error("That recording is too large; record a shorter one.");
    const plaintext = new Uint8Array(await recording.arrayBuffer());
    sealed = await dropSeal({ kind: "voice", plaintext, passphrase: secret });
    const body = new FormData();
    body.append("seal", JSON.stringify(sealed.seal));
    body.append("ciphertext", new Blob([sealed.ciphertext], { type: "application/octet-stream" }), "voice.sealed");
    body.append("mime", recording.type.split(";")[0]);
    body.append("ttl_seconds", life);
    body.append("max_views", views);
    for (const [name, value] of Object.entries(await proofOfWork())) body.append(name, value);
    data = await postForm(url("api-drops"), body);
  } else {
    const plaintext = new TextEncoder().encode(textarea.value);
    sealed = await dropSeal({ kind: "text", plaintext, passphrase: secret });
    data = await postWithWork(url("api-drops"), {
      seal: sealed.seal,
      ciphertext: toBase64(sealed.ciphertext),
      ttl_seconds: Number(life),
      max_views: Number(views),
    });
  }
  // The keys were made here and never sent: the share view gets them from this page.
  return { ...data, keys: sealed.keys.map(accessKeyDisplay), sealed: "browser" };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("create");
  button.disabled = true;
  status.classList.remove("error");
  status.textContent = t("Sealing in your browser…");
  try {
    const data = await create();
    textarea.value = "";
    passphrase.value = "";
    recording = null;
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.removeAttribute("src");
    status.textContent = "";
    showShare(data);
  } catch (error) {
    status.classList.add("error");
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
});
