// Passphrase rooms and rooms this browser keeps. Nothing here is ever sent:
// passphrases, derived keys and the remembered list stay in this browser.
//
// A passphrase room's key: PBKDF2-SHA256 (Web Crypto) over the NFC passphrase
// with the room's random salt and iteration count, which the server keeps as
// public parameters. With kdf.link the invite link's key is needed too: the
// room key is HKDF-SHA256 over (passphrase bits || link key).
// A room key in this module is always "the secret": 43 base64url characters,
// the same form as the invite link's #k=, so crypto.roomKey() takes either.
import { url } from "../js/config.js";
import { pt, t } from "../js/i18n.js";
import { fromBase64, roomSecretFromLocation, toBase64 } from "./crypto.js";

export const KDF = { v: 1, alg: "PBKDF2-SHA256", iterations: 600000 };
const SALT_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const subtle = crypto.subtle;

const toUrl = (bytes) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function fromUrl(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(padded + "=".repeat((4 - (padded.length % 4)) % 4));
}

async function pbkdf2(passphrase, salt, iterations) {
  const base = await subtle.importKey("raw", encoder.encode(passphrase.normalize("NFC")), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256));
}

// A new passphrase room's public parameters (the server stores them).
export function newKdf(withLink) {
  return { ...KDF, salt: toBase64(crypto.getRandomValues(new Uint8Array(SALT_BYTES))), link: Boolean(withLink) };
}

// The room secret for ``passphrase`` under the room's ``kdf`` (and link key).
export async function passphraseSecret(passphrase, kdf, linkSecret = null) {
  if (kdf.v !== 1 || kdf.alg !== KDF.alg) throw new Error(t("This room uses a key format this page does not know."));
  const bits = await pbkdf2(passphrase, fromBase64(kdf.salt), kdf.iterations);
  if (!kdf.link) return toUrl(bits);
  if (!linkSecret) throw new Error(t("This room needs its full invite link as well as the passphrase."));
  const joined = new Uint8Array(64);
  joined.set(bits);
  joined.set(fromUrl(linkSecret), 32);
  const base = await subtle.importKey("raw", joined, "HKDF", false, ["deriveBits"]);
  const info = encoder.encode("nullboard room key: passphrase and link v1");
  const out = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, base, 256);
  return toUrl(new Uint8Array(out));
}

// --- How strong a passphrase is ------------------------------------------------
// A rough guess at the bits an attacker must search, written for this page:
// random words count ~12.9 bits each (a 7,776-word diceware list), characters
// count by the alphabets used; repeats, sequences and well-known choices count
// for little. At 600,000 PBKDF2 rounds a large GPU tries some 10^4 guesses a
// second, so 50 bits is thousands of GPU-years.

export const MIN_BITS = 50;
const WORD_BITS = 12.9;
const COMMON = new Set([
  "password",
  "passphrase",
  "letmein",
  "qwerty",
  "iloveyou",
  "welcome",
  "admin",
  "monkey",
  "dragon",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "trustno1",
  "secret",
  "nullboard",
  "correct horse battery staple",
  "123456789012",
  "qwertyuiopasdf",
  "passwordpassword",
]);

export function passphraseBits(text) {
  const value = text.normalize("NFC");
  if (!value || COMMON.has(value.toLowerCase().trim())) return 0;
  const words = value
    .trim()
    .split(/[\s\-_.,]+/)
    .filter((w) => w.length >= 3);
  const wordBits = new Set(words.map((w) => w.toLowerCase())).size * WORD_BITS;
  // Only letters and separators: people pick real words, so count words, not letters.
  if (/^[\p{L}\s\-_.,]+$/u.test(value)) return Math.round(words.length >= 2 ? wordBits : charBits(value) / 2);
  return Math.round(Math.max(words.length >= 3 ? wordBits : 0, charBits(value)));
}

function charBits(value) {
  let alphabet = 0;
  if (/[a-z]/.test(value)) alphabet += 26;
  if (/[A-Z]/.test(value)) alphabet += 26;
  if (/[0-9]/.test(value)) alphabet += 10;
  if (/[^A-Za-z0-9\s]/.test(value)) alphabet += 33;
  // Characters that repeat the one before, or continue a run (abc, 123), add little.
  let effective = 0;
  for (let i = 0; i < value.length; i++) {
    const step = i ? value.charCodeAt(i) - value.charCodeAt(i - 1) : 99;
    effective += step === 0 || Math.abs(step) === 1 ? 0.25 : 1;
  }
  const unique = new Set(value).size;
  return Math.min(effective, unique * 2) * Math.log2(Math.max(alphabet, 2));
}

// {bits, level 0..4, label, ok}: ``ok`` when the page lets it protect a room.
export function passphraseStrength(text) {
  const bits = passphraseBits(text);
  const level = bits >= 80 ? 4 : bits >= MIN_BITS ? 3 : bits >= 35 ? 2 : bits > 0 ? 1 : 0;
  const label = [
    pt("passphrase strength", "Too weak"),
    pt("passphrase strength", "Weak"),
    pt("passphrase strength", "Not strong enough"),
    pt("passphrase strength", "Strong"),
    pt("passphrase strength", "Very strong"),
  ][level];
  return { bits, level, label, ok: bits >= MIN_BITS && text.length >= 12 };
}

// --- Rooms this browser knows ----------------------------------------------------

const TAB_PREFIX = "nullboard:room:"; // sessionStorage: this tab only, until it closes
const KEPT = "nullboard:rooms"; // localStorage: only when the visitor asks
const ROOM_RE = /^[A-Za-z0-9_-]{22}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

export const tabRooms = {
  get: (room) => sessionStorage.getItem(TAB_PREFIX + room),
  set: (room, secret) => sessionStorage.setItem(TAB_PREFIX + room, secret),
};

function validEntry(entry) {
  return (
    entry &&
    ROOM_RE.test(entry.room) &&
    SECRET_RE.test(entry.secret) &&
    (entry.kind === "link" || entry.kind === "passphrase")
  );
}

export const myRooms = {
  list() {
    try {
      const rows = JSON.parse(localStorage.getItem(KEPT) || "[]");
      return Array.isArray(rows) ? rows.filter(validEntry) : [];
    } catch {
      return [];
    }
  },
  get(room) {
    return this.list().find((entry) => entry.room === room) || null;
  },
  save(rows) {
    if (rows.length) localStorage.setItem(KEPT, JSON.stringify(rows));
    else localStorage.removeItem(KEPT);
    window.dispatchEvent(new CustomEvent("nullboard:rooms"));
  },
  remember({ room, secret, kind }) {
    const rows = this.list().filter((entry) => entry.room !== room);
    rows.push({ room, secret, kind, saved_at: Math.floor(Date.now() / 1000) });
    this.save(rows);
  },
  forget(room) {
    this.save(this.list().filter((entry) => entry.room !== room));
  },
  forgetAll() {
    this.save([]);
  },
};

// The room's secret from the link's fragment, this tab, or the remembered list.
export function knownSecret(room, kdf) {
  const fromLink = roomSecretFromLocation();
  if (fromLink && !kdf) return fromLink;
  return tabRooms.get(room) || myRooms.get(room)?.secret || null;
}

// Where "My rooms" sends a visitor: a link room's own invite link (the key in
// the fragment); a passphrase room's bare link (the key comes from this browser).
export function roomHref(entry) {
  const path = url("room", { room: entry.room });
  return entry.kind === "link" ? `${path}#k=${entry.secret}` : path;
}

// --- Export and import ------------------------------------------------------------
// Envelope (docs/room-export.md): {"format": "nullboard-rooms", "v": 1,
// "kdf": {alg, iterations, salt}, "iv", "ciphertext"}; the plaintext is
// {"rooms": [{room, secret, kind, saved_at}]}, sealed with AES-256-GCM under a
// PBKDF2-SHA256 key from the visitor's passphrase, the format header as AAD.

const FORMAT = "nullboard-rooms";
const AAD = encoder.encode("nullboard-rooms v1");

async function exportKey(passphrase, salt, iterations) {
  const bits = await pbkdf2(passphrase, salt, iterations);
  return subtle.importKey("raw", bits, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function exportRooms(passphrase, rows = myRooms.list()) {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await exportKey(passphrase, salt, KDF.iterations);
  const plain = encoder.encode(JSON.stringify({ rooms: rows }));
  const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: AAD }, key, plain));
  return JSON.stringify(
    {
      format: FORMAT,
      v: 1,
      kdf: { alg: KDF.alg, iterations: KDF.iterations, salt: toBase64(salt) },
      iv: toBase64(iv),
      ciphertext: toBase64(sealed),
    },
    null,
    2,
  );
}

// The rooms in an export, or an Error with a message a person can act on.
export async function readExport(text, passphrase) {
  let envelope;
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new Error(t("This is not a Nullboard rooms export: paste the whole text or choose the file."));
  }
  if (envelope?.format !== FORMAT) throw new Error(t("This is not a Nullboard rooms export."));
  if (envelope.v !== 1 || envelope.kdf?.alg !== KDF.alg)
    throw new Error(t("This export is from a newer version of the site."));
  const iterations = envelope.kdf.iterations;
  if (!Number.isInteger(iterations) || iterations < KDF.iterations || iterations > 10000000) {
    throw new Error(t("This export's settings are out of bounds."));
  }
  let plain;
  try {
    const key = await exportKey(passphrase, fromBase64(envelope.kdf.salt), iterations);
    plain = await subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(envelope.iv), additionalData: AAD },
      key,
      fromBase64(envelope.ciphertext),
    );
  } catch {
    throw new Error(t("Wrong passphrase, or the export was changed: nothing was imported."));
  }
  const rows = JSON.parse(decoder.decode(plain)).rooms;
  if (!Array.isArray(rows)) throw new Error(t("This export holds no rooms."));
  return rows.filter(validEntry);
}

// Merge imported rooms into the remembered list; returns how many it holds now.
export function importRooms(rows) {
  const kept = new Map(myRooms.list().map((entry) => [entry.room, entry]));
  for (const entry of rows)
    kept.set(entry.room, { room: entry.room, secret: entry.secret, kind: entry.kind, saved_at: entry.saved_at || 0 });
  myRooms.save([...kept.values()]);
  return rows.length;
}
