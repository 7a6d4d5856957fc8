"""The drop format, version 1: the same bytes whether the browser or the server seals.

Web Crypto's primitives, mirrored here with ``cryptography`` (see docs/security.md
for why, with the figures), and in ``static/drops/seal.js`` for the browser:

- content: AES-256-GCM under a random data key; blob = ``01 ‖ iv(12) ‖ ct+tag``,
  additional data ``nb-drop-v1 <kind>|<drop id>`` (a blob cannot move to another
  drop or change kind);
- per access key: HKDF-SHA256(ikm = key ‖ passphrase hash, salt = the drop's salt)
  gives a wrapping key (info ``nb-drop-v1 wrap|<id>``) and, independently, a
  verifier (info ``nb-drop-v1 verify|<id>``); the data key is wrapped like content
  (additional data ``nb-drop-v1 key|<id>``);
- a passphrase goes through PBKDF2-HMAC-SHA256 (600,000 iterations, the drop's
  salt) once; a wrong one gives a wrong verifier.

Access keys carry 140 random bits, so HKDF is enough for them. The server keeps
only HMAC(pepper, verifier), the wrapped keys, the salt and the iteration count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

VERSION = 1
# Crockford base32: no I, L, O or U, so a key read aloud or retyped survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_CHARS = 28  # 28 x 5 = 140 random bits
KEY_GROUP = 4
KEY_BYTES = 32
IV_BYTES = 12
SALT_BYTES = 16
TAG_BYTES = 16
SEAL_OVERHEAD = 1 + IV_BYTES + TAG_BYTES  # version byte, iv and tag around any content
WRAPPED_BYTES = SEAL_OVERHEAD + KEY_BYTES
PASSPHRASE_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
PASSPHRASE_MAX_CHARS = 200
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_KEY_SHAPE = re.compile(rf"[{ALPHABET}]{{{KEY_CHARS}}}")
_B64_SHAPE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class SealError(Exception):
    """A sealed value did not open: wrong key or tampered data."""


@cache
def pepper() -> bytes:
    """The HMAC pepper, derived from SECRET_KEY under a fixed context."""
    return hashlib.blake2b(
        force_bytes(settings.SECRET_KEY), digest_size=32, person=b"nb-drops-pepper"
    ).digest()


# --- keys -----------------------------------------------------------------------
# RFC 4648's base32 alphabet, letter for letter onto Crockford's: 32 symbols each way.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def access_key_generate() -> str:
    """A fresh access key in canonical form (28 Crockford base32 characters).

    Each character is 5 uniform random bits: base32 of random bytes, translated
    (one read of the system's CSPRNG, where a choice per character made 28)."""
    raw = base64.b32encode(secrets.token_bytes(-(-KEY_CHARS * 5 // 8)))
    return raw.translate(_TO_CROCKFORD)[:KEY_CHARS].decode()


def access_key_display(key: str) -> str:
    """The key in groups of four, for people: ``ABCD-EFGH-...``."""
    return "-".join(key[i : i + KEY_GROUP] for i in range(0, len(key), KEY_GROUP))


def access_key_normalize(text: str) -> str | None:
    """The canonical key from what a person typed or pasted, or None if malformed."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().translate(_LOOKALIKES)
    return cleaned if _KEY_SHAPE.fullmatch(cleaned) else None


def lookup_hash(purpose: str, drop_id: str, secret: str) -> str:
    """HMAC(pepper, purpose|drop|secret): how Redis finds a key without keeping it."""
    message = f"{purpose}|{drop_id}|{secret}".encode()
    return hmac.new(pepper(), message, hashlib.sha256).hexdigest()


def verifier_hash(drop_id: str, verifier: bytes) -> str:
    """What Redis keeps of a verifier: HMAC(pepper, ...), so a dump opens nothing."""
    return lookup_hash("verifier", drop_id, verifier.hex())


# --- primitives -----------------------------------------------------------------
def _aad(label: str, drop_id: str) -> bytes:
    return f"nb-drop-v{VERSION} {label}|{drop_id}".encode()


def aead_seal(key: bytes, plaintext: bytes, aad: bytes, iv: bytes | None = None) -> bytes:
    """``01 ‖ iv ‖ AES-256-GCM(key, iv, plaintext, aad)``; a fresh iv unless given."""
    iv = iv if iv is not None else secrets.token_bytes(IV_BYTES)
    return bytes([VERSION]) + iv + AESGCM(key).encrypt(iv, plaintext, aad)


def aead_open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Undo :func:`aead_seal`; SealError on a wrong key, version or tampering."""
    if len(blob) < 1 + IV_BYTES + TAG_BYTES or blob[0] != VERSION:
        raise SealError("not a version-1 blob")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + IV_BYTES], blob[1 + IV_BYTES :], aad)
    except InvalidTag:
        raise SealError("the sealed value did not open") from None


def passphrase_hash(passphrase: str, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA256 of the NFC-normalised passphrase; empty without one."""
    if not passphrase:
        return b""
    text = unicodedata.normalize("NFC", passphrase).encode()
    return hashlib.pbkdf2_hmac("sha256", text, salt, iterations, dklen=KEY_BYTES)


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(ikm)


@dataclass(frozen=True)
class KeyDerivation:
    """What one access key (+ passphrase) gives: a wrapping key and a verifier."""

    wrap_key: bytes
    verifier: bytes


def derive(*, key: str, drop_id: str, salt: bytes, pass_hash: bytes = b"") -> KeyDerivation:
    """Both derivations of a canonical access key for one drop."""
    ikm = key.encode() + pass_hash
    return KeyDerivation(
        wrap_key=_hkdf(ikm, salt, _aad("wrap", drop_id)),
        verifier=_hkdf(ikm, salt, _aad("verify", drop_id)),
    )


def content_seal(data_key: bytes, plaintext: bytes, *, drop_id: str, kind: str) -> bytes:
    """Encrypt a drop's text or recording under its data key, bound to id and kind."""
    return aead_seal(data_key, plaintext, _aad(kind, drop_id))


def content_open(data_key: bytes, blob: bytes, *, drop_id: str, kind: str) -> bytes:
    """Decrypt a drop's content; SealError if it does not open."""
    return aead_open(data_key, blob, _aad(kind, drop_id))


def data_key_wrap(data_key: bytes, *, wrap_key: bytes, drop_id: str) -> bytes:
    """The data key sealed under one access key's wrapping key."""
    return aead_seal(wrap_key, data_key, _aad("key", drop_id))


def data_key_unwrap(wrapped: bytes, *, wrap_key: bytes, drop_id: str) -> bytes:
    """The data key back from one wrapped copy; SealError on a wrong key."""
    return aead_open(wrap_key, wrapped, _aad("key", drop_id))


def ticket_key(ticket: str, drop_id: str) -> bytes:
    """The key an audio ticket (kept only in its URL) seals the wrapping key under."""
    return _hkdf(ticket.encode(), b"", _aad("ticket", drop_id))


def ticket_aad(drop_id: str) -> bytes:
    """Additional data binding a ticket's sealed wrapping key to its drop."""
    return _aad("ticket", drop_id)


# --- a whole drop, sealed on the server -------------------------------------------
@dataclass(frozen=True)
class SealedKey:
    """What the server keeps of one access key: its verifier and wrapped data key."""

    verifier: bytes
    wrapped: bytes


@dataclass(frozen=True)
class Sealed:
    """A drop in format v1, as the browser would send it (plus the keys, server side)."""

    salt: bytes
    iterations: int  # 0: no passphrase
    ciphertext: bytes
    keys: list[SealedKey]
    access_keys: list[str]  # canonical; only the server-sealed path ever holds these


def drop_seal(
    *, drop_id: str, kind: str, plaintext: bytes, passphrase: str = "", count: int = 3
) -> Sealed:
    """Seal a drop as the browser does, with fresh keys (the no-JS and API path)."""
    salt = secrets.token_bytes(SALT_BYTES)
    iterations = PASSPHRASE_ITERATIONS if passphrase else 0
    pass_hash = passphrase_hash(passphrase, salt, iterations)
    data_key = secrets.token_bytes(KEY_BYTES)
    access_keys = [access_key_generate() for _ in range(count)]
    keys = []
    for key in access_keys:
        derived = derive(key=key, drop_id=drop_id, salt=salt, pass_hash=pass_hash)
        keys.append(
            SealedKey(
                verifier=derived.verifier,
                wrapped=data_key_wrap(data_key, wrap_key=derived.wrap_key, drop_id=drop_id),
            )
        )
    ciphertext = content_seal(data_key, plaintext, drop_id=drop_id, kind=kind)
    return Sealed(salt, iterations, ciphertext, keys, access_keys)


# --- wire encoding ----------------------------------------------------------------
def b64encode(data: bytes) -> str:
    """Standard base64 with padding (what the browser's btoa gives)."""
    return base64.b64encode(data).decode()


def b64decode(text: object, *, size: int | None = None, max_size: int | None = None) -> bytes:
    """Strict base64; ValueError on anything else (a value that is not a string
    included), or on a wrong length."""
    if not isinstance(text, str) or not _B64_SHAPE.fullmatch(text) or len(text) % 4:
        raise ValueError("not base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if size is not None and len(data) != size:
        raise ValueError(f"must be {size} bytes")
    if max_size is not None and len(data) > max_size:
        raise ValueError(f"must be at most {max_size} bytes")
    return data
