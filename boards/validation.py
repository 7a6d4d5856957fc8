"""Boards' input specs and the shapes the server checks without ever decrypting:
slugs, ids, blobs. Each endpoint's input is declared once here (see nullboard.specs).

Every pattern is applied with ``fullmatch``: ``$`` would also match before a
final newline, so ``"sport\n"`` would pass as a topic and reach trending.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, TypeGuard

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pydantic import BeforeValidator, PlainValidator, model_validator

from boards.room_kdf import RoomKdf, kdf_clean
from nullboard import errors
from nullboard.specs import Spec, refuse

TOPIC_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,31}")
ROOM_RE = re.compile(r"[A-Za-z0-9_-]{22}")  # 16 random bytes, base64url
ITEM_ID_RE = re.compile(r"[0-9a-f]{16}")
CURSOR_RE = re.compile(r"[0-9]{1,20}")
PUBKEY_RE = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")

BLOB_VERSIONS = frozenset({0x01})
IV_BYTES = 12
TAG_BYTES = 16
MIN_BLOB_BYTES = 1 + IV_BYTES + TAG_BYTES  # version || IV || empty ciphertext + tag
KEY_CHECK_MAX_BYTES = 200  # a short constant sealed with the room key

BLOB_NOT_STRING = _("'blob' must be a base64 string.")
BLOB_TOO_LARGE = _("'blob' is over %(max)s bytes.")
BLOB_NOT_BASE64 = _("'blob' is not valid base64.")
BLOB_TOO_SHORT = _("'blob' is too short to be a ciphertext.")
BLOB_VERSION = _("'blob' has an unknown version byte.")
INVALID_TOPIC = _("A topic is 2-32 of a-z, 0-9 and '-'.")
INVALID_ROOM = _("That is not a room id.")
INVALID_CURSOR = _("The cursor is malformed.")
INVALID_PUBKEY = _("'author_pubkey' must be base64, at most 200 chars.")
FEED_NOT_BOTH = _("Ask for a topic or a room, not both.")
FEED_EXACTLY_ONE = _("Give exactly one of 'topic' or 'room'.")
ROOM_NEEDS_CHECK = _("A passphrase room needs its 'key_check'.")


def is_topic(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(TOPIC_RE.fullmatch(value))


def is_room(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(ROOM_RE.fullmatch(value))


def is_item_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(ITEM_ID_RE.fullmatch(value))


# --- Field checks (each refuses with its endpoint's code) ------------------------------


def _topic(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not is_topic(value):
        raise refuse("invalid_topic", INVALID_TOPIC)
    return value


def _room(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not is_room(value):
        raise refuse("invalid_room", INVALID_ROOM)
    return value


def _cursor(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CURSOR_RE.fullmatch(value):
        raise refuse("invalid_cursor", INVALID_CURSOR)
    return value


def _pubkey(value: Any) -> str:
    """``author_pubkey`` is optional and bounded; it is checked, never stored."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not PUBKEY_RE.fullmatch(value):
        raise refuse("invalid_pubkey", INVALID_PUBKEY)
    return value


def blob_check(value: Any, *, max_bytes: int) -> str:
    """A base64 ``version || 12-byte IV || ciphertext+tag`` within ``max_bytes``
    (measured on the base64 text, which is what we store)."""
    if value in (None, ""):
        raise refuse("missing_field", errors.REQUIRED % {"name": "blob"})
    if not isinstance(value, str):
        raise refuse("invalid_blob", BLOB_NOT_STRING)
    if len(value) > max_bytes:
        raise refuse("blob_too_large", BLOB_TOO_LARGE % {"max": max_bytes}, status=413)
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise refuse("invalid_blob", BLOB_NOT_BASE64) from None
    if len(raw) < MIN_BLOB_BYTES:
        raise refuse("invalid_blob", BLOB_TOO_SHORT)
    if raw[0] not in BLOB_VERSIONS:
        raise refuse("invalid_blob", BLOB_VERSION)
    return value


def _post_blob(value: Any) -> str:
    return blob_check(value, max_bytes=settings.MAX_BLOB_BYTES)


def _comment_blob(value: Any) -> str:
    return blob_check(value, max_bytes=settings.MAX_COMMENT_BLOB_BYTES)


def _key_check(value: Any) -> str:
    if value in (None, ""):
        return ""
    return blob_check(value, max_bytes=KEY_CHECK_MAX_BYTES)


def _kdf(value: Any) -> RoomKdf | None:
    return None if value is None else kdf_clean(value)


Topic = Annotated[str | None, BeforeValidator(_topic)]
Room = Annotated[str | None, BeforeValidator(_room)]
Cursor = Annotated[str | None, BeforeValidator(_cursor)]
Pubkey = Annotated[str, BeforeValidator(_pubkey)]


# --- Endpoint specs ----------------------------------------------------------------


class FeedQuery(Spec):
    """GET /api/posts: the home feed, or ``topic=`` or ``room=``; ``cursor=`` pages
    back, ``after=`` asks only for posts newer than a cursor."""

    topic: Topic = None
    room: Room = None
    cursor: Cursor = None
    after: Cursor = None

    @model_validator(mode="before")
    @classmethod
    def _one_feed(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("topic") and data.get("room"):
            raise refuse("invalid_feed", FEED_NOT_BOTH)
        return data


class CommentsQuery(Spec):
    """GET /api/posts/ID/comments: ``after=`` asks only for newer comments."""

    after: Cursor = None


class PostCreate(Spec):
    """POST /api/posts: a ciphertext blob for exactly one topic or room."""

    topic: Topic = None
    room: Room = None
    blob: Annotated[str, BeforeValidator(_post_blob)] = ""
    author_pubkey: Pubkey = ""

    @model_validator(mode="before")
    @classmethod
    def _one_feed(cls, data: Any) -> Any:
        if isinstance(data, dict) and bool(data.get("topic")) == bool(data.get("room")):
            raise refuse("invalid_feed", FEED_EXACTLY_ONE)
        return data


class CommentCreate(Spec):
    """POST /api/posts/ID/comments: a ciphertext blob (a smaller one than a post's)."""

    blob: Annotated[str, BeforeValidator(_comment_blob)] = ""
    author_pubkey: Pubkey = ""


class RoomCreate(Spec):
    """POST /api/rooms: an optional ``key_check`` (a known constant sealed with the
    room's key, in the blob format) and, for a passphrase room, its ``kdf``."""

    key_check: Annotated[str, BeforeValidator(_key_check)] = ""
    # A RoomKdf or None (typed Any: pydantic needs typing_extensions' TypedDict on 3.11).
    kdf: Annotated[Any, PlainValidator(_kdf)] = None

    @model_validator(mode="after")
    def _passphrase_room_has_check(self) -> RoomCreate:
        # A wrong passphrase must show nothing: the page needs the check to tell.
        if self.kdf is not None and not self.key_check:
            raise refuse("missing_field", ROOM_NEEDS_CHECK)
        return self
