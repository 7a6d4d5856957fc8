"""Sealing drops at rest: a data key per drop, wrapped once per access key.

Access keys carry 140 random bits, so a fast KDF (keyed BLAKE2b) is enough;
the server keeps only HMAC(pepper, key) to find a key, never the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import cache

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.secret
import nacl.utils
from django.conf import settings

# Crockford base32: no I, L, O or U, so a key read aloud or retyped survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_CHARS = 28  # 28 x 5 = 140 random bits
KEY_GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_KEY_SHAPE = re.compile(rf"^[{ALPHABET}]{{{KEY_CHARS}}}$")

_WRAP_PERSON = b"nb-drop-wrap-v1"
_TICKET_PERSON = b"nb-drop-tick-v1"


class SealError(Exception):
    """A sealed value did not open: wrong key or tampered data."""


@cache
def pepper() -> bytes:
    """The HMAC pepper, derived from SECRET_KEY under a fixed context."""
    return hashlib.blake2b(
        settings.SECRET_KEY.encode(), digest_size=32, person=b"nb-drops-pepper"
    ).digest()


def access_key_generate() -> str:
    """A fresh access key in canonical form (28 Crockford base32 characters)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(KEY_CHARS))


def access_key_display(key: str) -> str:
    """The key in groups of four, for people: ``ABCD-EFGH-...``."""
    return "-".join(key[i : i + KEY_GROUP] for i in range(0, len(key), KEY_GROUP))


def access_key_normalize(text: str) -> str | None:
    """The canonical key from what a person typed or pasted, or None if malformed."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().translate(_LOOKALIKES)
    return cleaned if _KEY_SHAPE.match(cleaned) else None


def lookup_hash(purpose: str, drop_id: str, secret: str) -> str:
    """HMAC(pepper, purpose|drop|secret): how Redis finds a key without keeping it."""
    message = f"{purpose}|{drop_id}|{secret}".encode()
    return hmac.new(pepper(), message, hashlib.sha256).hexdigest()


def data_key_generate() -> bytes:
    """A fresh random key for one drop's content."""
    return nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)


def seal(data_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt with the drop's data key (nonce included)."""
    return bytes(nacl.secret.SecretBox(data_key).encrypt(plaintext))


def unseal(data_key: bytes, sealed: bytes) -> bytes:
    """Decrypt with a data key; SealError if it does not open."""
    try:
        return nacl.secret.SecretBox(data_key).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise SealError("the sealed value did not open") from None


def _wrap_key(secret: str, drop_id: str, person: bytes) -> bytes:
    return nacl.hash.blake2b(
        drop_id.encode(),
        key=secret.encode(),
        person=person,
        digest_size=nacl.secret.SecretBox.KEY_SIZE,
        encoder=nacl.encoding.RawEncoder,
    )


def wrap(data_key: bytes, *, secret: str, drop_id: str, ticket: bool = False) -> bytes:
    """Encrypt the data key under a key derived from an access key or audio ticket."""
    person = _TICKET_PERSON if ticket else _WRAP_PERSON
    return seal(_wrap_key(secret, drop_id, person), data_key)


def unwrap(wrapped: bytes, *, secret: str, drop_id: str, ticket: bool = False) -> bytes:
    """Recover the data key with the access key or ticket that wrapped it."""
    person = _TICKET_PERSON if ticket else _WRAP_PERSON
    return unseal(_wrap_key(secret, drop_id, person), wrapped)
