"""Shapes the server checks without ever decrypting: slugs, ids, blobs.

Every pattern is applied with ``fullmatch``: ``$`` would also match before a
final newline, so ``"sport\n"`` would pass as a topic and reach trending.
"""

from __future__ import annotations

import base64
import binascii
import re

from nullboard.api import ApiError

TOPIC_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
ROOM_RE = re.compile(r"[A-Za-z0-9_-]{22}")  # 16 random bytes, base64url
ITEM_ID_RE = re.compile(r"[0-9a-f]{16}")
CURSOR_RE = re.compile(r"[0-9]{1,20}")
PUBKEY_RE = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")

BLOB_VERSIONS = frozenset({0x01})
IV_BYTES = 12
TAG_BYTES = 16
MIN_BLOB_BYTES = 1 + IV_BYTES + TAG_BYTES  # version || IV || empty ciphertext + tag


def is_topic(value: object) -> bool:
    return isinstance(value, str) and bool(TOPIC_RE.fullmatch(value))


def is_room(value: object) -> bool:
    return isinstance(value, str) and bool(ROOM_RE.fullmatch(value))


def is_item_id(value: object) -> bool:
    return isinstance(value, str) and bool(ITEM_ID_RE.fullmatch(value))


def topic_clean(value: object) -> str:
    if not is_topic(value):
        raise ApiError(400, "invalid_topic", "A topic is 2-32 of a-z, 0-9 and '-'.")
    return value  # type: ignore[return-value]


def room_clean(value: object) -> str:
    if not is_room(value):
        raise ApiError(400, "invalid_room", "That is not a room id.")
    return value  # type: ignore[return-value]


def cursor_clean(value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CURSOR_RE.fullmatch(value):
        raise ApiError(400, "invalid_cursor", "The cursor is malformed.")
    return value


def pubkey_clean(value: object) -> str:
    """``author_pubkey`` is optional and bounded; it is checked, never stored."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not PUBKEY_RE.fullmatch(value):
        raise ApiError(400, "invalid_pubkey", "'author_pubkey' must be base64, at most 200 chars.")
    return value


def blob_clean(value: object, *, max_bytes: int) -> str:
    """A base64 ``version || 12-byte IV || ciphertext+tag`` within ``max_bytes``
    (measured on the base64 text, which is what we store)."""
    if value in (None, ""):
        raise ApiError(400, "missing_field", "'blob' is required.")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_blob", "'blob' must be a base64 string.")
    if len(value) > max_bytes:
        raise ApiError(413, "blob_too_large", f"'blob' is over {max_bytes} bytes.")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise ApiError(400, "invalid_blob", "'blob' is not valid base64.") from None
    if len(raw) < MIN_BLOB_BYTES:
        raise ApiError(400, "invalid_blob", "'blob' is too short to be a ciphertext.")
    if raw[0] not in BLOB_VERSIONS:
        raise ApiError(400, "invalid_blob", "'blob' has an unknown version byte.")
    return value
