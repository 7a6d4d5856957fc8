// Browser-side encryption for posts and comments (AES-256-GCM via Web Crypto).
//
// Blob = base64(version byte 0x01 || 12-byte IV || ciphertext+tag). The server
// checks only this shape and never sees a key.
//
// Topic keys: HKDF-SHA256 over the UTF-8 topic slug with the fixed salt and
// info below. Anyone can derive them, so they hide content at rest only.
// Room keys: 256 random bits, carried only in the invite link's fragment
// (#k=<base64url>), which browsers never send to the server.

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TOPIC_SALT = "nullboard/topic-key/v1";
const TOPIC_INFO = "nullboard aes-256-gcm post key";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function toBase64Url(bytes) {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(padded + "=".repeat((4 - (padded.length % 4)) % 4));
}

const topicKeys = new Map();

export function topicKey(slug) {
  if (!topicKeys.has(slug)) {
    topicKeys.set(
      slug,
      (async () => {
        const base = await crypto.subtle.importKey("raw", encoder.encode(slug), "HKDF", false, ["deriveKey"]);
        return crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: encoder.encode(TOPIC_SALT), info: encoder.encode(TOPIC_INFO) },
          base,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        );
      })(),
    );
  }
  return topicKeys.get(slug);
}

// A fresh room key as the text that goes after "#k=".
export function newRoomSecret() {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

// The room secret from the current URL's fragment, or null.
export function roomSecretFromLocation() {
  const match = location.hash.match(/(?:^#|&)k=([A-Za-z0-9_-]{43})(?:&|$)/);
  return match ? match[1] : null;
}

export async function roomKey(secret) {
  const raw = fromBase64Url(secret);
  if (raw.length !== 32) throw new Error("A room key is 256 bits.");
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function encrypt(key, text) {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(text)));
  const out = new Uint8Array(1 + IV_BYTES + sealed.length);
  out[0] = VERSION;
  out.set(iv, 1);
  out.set(sealed, 1 + IV_BYTES);
  return toBase64(out);
}

export async function decrypt(key, blob) {
  const bytes = fromBase64(blob);
  if (bytes[0] !== VERSION || bytes.length < 1 + IV_BYTES + TAG_BYTES) throw new Error("Unknown blob format.");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(1, 1 + IV_BYTES) },
    key,
    bytes.subarray(1 + IV_BYTES),
  );
  return decoder.decode(plain);
}

// How long the blob for ``text`` will be, in bytes of base64 (what the server measures).
export function blobSize(text) {
  const raw = 1 + IV_BYTES + encoder.encode(text).length + TAG_BYTES;
  return 4 * Math.ceil(raw / 3);
}

// A room's key check: this constant sealed with the room key when the room is
// made. A page whose key cannot open it holds a wrong key, even in an empty room.
const KEY_CHECK_TEXT = "nullboard room key check v1";

export async function makeKeyCheck(key) {
  return encrypt(key, KEY_CHECK_TEXT);
}

// true: the key opens the room; false: wrong key; null: the room has no check.
export async function keyOpens(key, check) {
  if (!check) return null;
  try {
    return (await decrypt(key, check)) === KEY_CHECK_TEXT;
  } catch {
    return false;
  }
}

// How much more ``text`` can grow before its blob passes ``maxBlobBytes``
// (negative when it already does), counted in UTF-8 bytes: one per plain letter.
export function charactersLeft(text, maxBlobBytes) {
  const room = 3 * Math.floor(maxBlobBytes / 4) - 1 - IV_BYTES - TAG_BYTES;
  return room - encoder.encode(text).length;
}
