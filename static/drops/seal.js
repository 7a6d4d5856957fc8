// The drop format, version 1, with Web Crypto: byte for byte what drops/sealing.py does.
// Content: AES-256-GCM under a random data key, blob = 01 ‖ iv(12) ‖ ct+tag, bound to the
// drop id and kind. Per access key: HKDF-SHA256(key ‖ passphrase hash, drop salt) gives a
// wrapping key and, independently, a verifier; a passphrase goes through PBKDF2-SHA256.
const VERSION = 1;
const IV_BYTES = 12;
export const SALT_BYTES = 16;
export const PASSPHRASE_ITERATIONS = 600000;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const KEY_CHARS = 28;
const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

const aad = (label, dropId) => encoder.encode(`nb-drop-v${VERSION} ${label}|${dropId}`);
const random = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

// A fresh access key: 28 Crockford base32 characters (140 bits), no modulo bias (32 | 256).
export function accessKeyGenerate() {
  return Array.from(random(KEY_CHARS), (b) => ALPHABET[b % 32]).join("");
}

export function accessKeyDisplay(key) {
  return key.match(/.{1,4}/g).join("-");
}

// The canonical key from what a person typed, or null (same rules as the server).
export function accessKeyNormalize(text) {
  const cleaned = (text || "").replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  return /^[0-9A-HJKMNP-TV-Z]{28}$/.test(cleaned) ? cleaned : null;
}

// A drop id like the server's secrets.token_urlsafe(12): 16 characters.
export function dropIdGenerate() {
  return toBase64(random(12)).replace(/\+/g, "-").replace(/\//g, "_");
}

async function aeadSeal(rawKey, plaintext, additional, iv = random(IV_BYTES)) {
  const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);
  const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: additional }, key, plaintext);
  return concat(Uint8Array.of(VERSION), iv, new Uint8Array(ct));
}

async function aeadOpen(rawKey, blob, additional) {
  if (blob.length < 1 + IV_BYTES + 16 || blob[0] !== VERSION) throw new Error("Not a sealed drop this page can read.");
  const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const pt = await subtle.decrypt(
    { name: "AES-GCM", iv, additionalData: additional },
    key,
    blob.subarray(1 + IV_BYTES),
  );
  return new Uint8Array(pt);
}

export async function passphraseHash(passphrase, salt, iterations) {
  if (!passphrase) return new Uint8Array(0);
  const base = await subtle.importKey("raw", encoder.encode(passphrase.normalize("NFC")), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256);
  return new Uint8Array(bits);
}

async function hkdf(ikm, salt, info) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, base, 256);
  return new Uint8Array(bits);
}

// Both derivations of a canonical access key: {wrapKey, verifier}.
export async function derive(key, dropId, salt, passHash = new Uint8Array(0)) {
  const ikm = concat(encoder.encode(key), passHash);
  return {
    wrapKey: await hkdf(ikm, salt, aad("wrap", dropId)),
    verifier: await hkdf(ikm, salt, aad("verify", dropId)),
  };
}

export const contentSeal = (dataKey, plaintext, dropId, kind, iv) =>
  aeadSeal(dataKey, plaintext, aad(kind, dropId), iv);
export const contentOpen = (dataKey, blob, dropId, kind) => aeadOpen(dataKey, blob, aad(kind, dropId));
export const dataKeyWrap = (dataKey, wrapKey, dropId, iv) => aeadSeal(wrapKey, dataKey, aad("key", dropId), iv);
export const dataKeyUnwrap = (wrapped, wrapKey, dropId) => aeadOpen(wrapKey, wrapped, aad("key", dropId));

// Seal a whole drop in this browser. Returns the three keys (they never leave the page
// except in the share view) and `seal`, `ciphertext`: all the server gets.
export async function dropSeal({ kind, plaintext, passphrase = "", count = 3 }) {
  const dropId = dropIdGenerate();
  const salt = random(SALT_BYTES);
  const iterations = passphrase ? PASSPHRASE_ITERATIONS : 0;
  const passHash = await passphraseHash(passphrase, salt, iterations);
  const dataKey = random(32);
  const keys = [];
  const sealedKeys = [];
  for (let i = 0; i < count; i++) {
    const key = accessKeyGenerate();
    const { wrapKey, verifier } = await derive(key, dropId, salt, passHash);
    keys.push(key);
    sealedKeys.push({ verifier: toBase64(verifier), wrapped: toBase64(await dataKeyWrap(dataKey, wrapKey, dropId)) });
  }
  const ciphertext = await contentSeal(dataKey, plaintext, dropId, kind);
  dataKey.fill(0);
  return {
    keys,
    ciphertext,
    seal: { v: VERSION, id: dropId, salt: toBase64(salt), iterations, keys: sealedKeys },
  };
}

// Open side, step 1: the verifier to post (and the wrapping key to keep in the page).
export async function keyDerive({ key, dropId, salt, iterations, passphrase = "" }) {
  const saltBytes = fromBase64(salt);
  const passHash = iterations ? await passphraseHash(passphrase, saltBytes, iterations) : new Uint8Array(0);
  const { wrapKey, verifier } = await derive(key, dropId, saltBytes, passHash);
  return { wrapKey, verifier: toBase64(verifier) };
}

// Open side, step 2: unwrap the data key and decrypt the content.
export async function dropOpen({ wrapKey, wrapped, ciphertext, dropId, kind }) {
  const dataKey = await dataKeyUnwrap(fromBase64(wrapped), wrapKey, dropId);
  try {
    return await contentOpen(dataKey, ciphertext, dropId, kind);
  } finally {
    dataKey.fill(0);
  }
}
