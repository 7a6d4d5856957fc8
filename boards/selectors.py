"""Boards reads: feeds, posts, comments, trending, rooms.

Every post and comment carries ``cursor``: its unique, time-ordered score as a
string of digits. A page that lost its live socket passes the newest cursor it
holds back as ``after=`` and gets exactly what it missed.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.conf import settings

from boards import keys
from boards.room_kdf import room_parse
from nullboard import redis_utils

PAGE_SIZE = 20
MAX_COMMENTS = 500  # one post's comment list; rate limits keep it far below
TRENDING_SIZE = 10

_feed_page = redis_utils.lua(__file__, "feed_page.lua")
_comments_list = redis_utils.lua(__file__, "comments_list.lua")


class ItemHidden(Exception):
    """The item exists but moderation hid it pending review."""


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _cutoff(now: float, ttl: int) -> str:
    return keys.score_floor(int(now), ttl)


def _lower(cutoff: str, after: str | None) -> str:
    """The lowest score a read takes: the TTL cutoff, or just above ``after``."""
    if after and int(after) >= int(cutoff):
        return f"({after}"
    return cutoff


def _post(row: list[Any]) -> dict[str, Any]:
    post_id, topic, room, author, blob, created_at, expires_at, comments, score = row[:9]
    post: dict[str, Any] = {"id": _text(post_id)}
    if _text(room):
        post["room"] = _text(room)
    else:
        post["topic"] = _text(topic)
    post.update(
        author=_text(author),
        blob=_text(blob),
        created_at=int(created_at),
        expires_at=int(expires_at),
        comment_count=int(comments),
        cursor=_text(score),
    )
    return post


def _feed_args(*, topic: str | None, room: str | None, cursor: str | None, after: str | None):
    now = time.time()
    cutoff = _cutoff(now, settings.POST_TTL_SECONDS)
    return [keys.feed_key(topic=topic, room=room)], [
        cutoff,
        f"({cursor}" if cursor else "+inf",
        PAGE_SIZE,
        keys.POST_PREFIX,
        keys.COMMENTS_SUFFIX,
        _cutoff(now, settings.COMMENT_TTL_SECONDS),
        int(now),
        _lower(cutoff, after),
    ]


def _feed_result(rows: list[list[Any]], next_cursor: Any) -> dict[str, Any]:
    return {
        "items": [_post(row) for row in rows],
        "next_cursor": _text(next_cursor) if next_cursor else None,
    }


def feed_page(
    *,
    topic: str | None = None,
    room: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """One page of a feed, newest first: ``{items, next_cursor}``.

    The cursor is the last item's unique score, so walking it sees each post
    once even while new posts arrive (they sort above the walk). ``after``
    bounds the walk below: only posts newer than that cursor (a catch-up).
    """
    args = _feed_args(topic=topic, room=room, cursor=cursor, after=after)
    return _feed_result(*_feed_page(*args))


# Ids, slugs, room ids, names, base64 blobs and digits: JSON writes them as they are.
_PLAIN = re.compile(rb"[A-Za-z0-9+/=._:-]*")
_ITEM = (
    b'{"id": "%s", "%s": "%s", "author": "%s", "blob": "%s", '
    b'"created_at": %d, "expires_at": %d, "comment_count": %d, "cursor": "%s"}'
)


def _page_json(rows: list[list[Any]], next_cursor: bytes | None) -> bytes | None:
    """The page as ``json.dumps`` writes it, from the script's rows, or None when
    a value would need escaping (then json.dumps itself does it)."""
    items = []
    for post_id, topic, room, author, blob, created_at, expires_at, comments, score in rows:
        if not _PLAIN.fullmatch(b"".join((post_id, topic, room, author, blob, score))):
            return None
        where, place = (b"room", room) if room else (b"topic", topic)
        values = (post_id, where, place, author, blob, int(created_at), int(expires_at))
        items.append(_ITEM % (*values, int(comments), score))
    if next_cursor is None:
        cursor = b"null"
    elif _PLAIN.fullmatch(next_cursor):
        cursor = b'"' + next_cursor + b'"'
    else:
        return None
    return b'{"items": [' + b", ".join(items) + b'], "next_cursor": ' + cursor + b"}"


async def feed_page_json(
    *,
    topic: str | None = None,
    room: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> bytes:
    """:func:`feed_page` as JSON bytes, on the event loop: one EVALSHA, no thread.

    The bytes are exactly ``json.dumps(feed_page(...))`` (tests/boards/test_feeds.py
    checks it), written straight from the script's rows: no dicts, no encoder.
    The work stays here, not in Lua: Redis is the one resource every web
    process shares, so the script fetches rows and prunes dead ids, nothing more.
    """
    keys_, args = _feed_args(topic=topic, room=room, cursor=cursor, after=after)
    rows, next_cursor = await _feed_page.acall(keys_, args)
    found = _page_json(rows, next_cursor or None)
    if found is None:
        return json.dumps(_feed_result(rows, next_cursor)).encode()
    return found


def post_get(*, post_id: str) -> dict[str, Any] | None:
    """A live, visible post with its comment count, or None."""
    try:
        return post_find(post_id=post_id)
    except ItemHidden:
        return None


def post_find(*, post_id: str) -> dict[str, Any] | None:
    """A live post with its comment count, or None when it is gone.

    Raises ItemHidden while moderation hides it (the hash stays until its TTL).
    """
    now = time.time()
    pipe = redis_utils.client().pipeline(transaction=False)
    pipe.hmget(
        keys.post_key(post_id),
        "id",
        "topic",
        "room",
        "author",
        "blob",
        "created_at",
        "expires_at",
        "score",
        "hidden",
    )
    pipe.zcount(keys.post_comments_key(post_id), _cutoff(now, settings.COMMENT_TTL_SECONDS), "+inf")
    fields, comments = pipe.execute()
    if fields[0] is None or int(fields[6]) <= now:
        return None
    if fields[8] is not None:
        raise ItemHidden(post_id)
    return _post([*fields[:7], comments, fields[7]])


def comments_list(*, post_id: str, after: str | None = None) -> list[dict[str, Any]] | None:
    """A post's live comments, oldest first; None when the post is gone or hidden."""
    try:
        return comments_find(post_id=post_id, after=after)
    except ItemHidden:
        return None


def comments_find(*, post_id: str, after: str | None = None) -> list[dict[str, Any]] | None:
    """A post's live comments, oldest first (only those newer than the cursor
    ``after`` when given); None when the post is gone.

    Raises ItemHidden while moderation hides the post.
    """
    now = time.time()
    cutoff = _cutoff(now, settings.COMMENT_TTL_SECONDS)
    rows = _comments_list(
        [keys.post_key(post_id), keys.post_comments_key(post_id)],
        [keys.COMMENT_PREFIX, cutoff, int(now), MAX_COMMENTS, _lower(cutoff, after)],
    )
    if rows is None:
        return None
    if not isinstance(rows, list):
        raise ItemHidden(post_id)
    return [
        {
            "id": _text(comment_id),
            "post": post_id,
            "author": _text(author),
            "blob": _text(blob),
            "created_at": int(created_at),
            "expires_at": int(expires_at),
            "cursor": _text(score),
        }
        for comment_id, author, blob, created_at, expires_at, score in rows
    ]


def comment_get(*, comment_id: str) -> dict[str, Any] | None:
    """A live, visible comment, or None."""
    fields = redis_utils.client().hmget(
        keys.comment_key(comment_id),
        "post",
        "author",
        "blob",
        "created_at",
        "expires_at",
        "hidden",
        "score",
    )
    if fields[0] is None or fields[5] is not None or int(fields[4]) <= time.time():
        return None
    return {
        "id": comment_id,
        "post": _text(fields[0]),
        "author": _text(fields[1]),
        "blob": _text(fields[2]),
        "created_at": int(fields[3]),
        "expires_at": int(fields[4]),
        "cursor": _text(fields[6]),
    }


def trending_list(*, limit: int = TRENDING_SIZE) -> list[dict[str, Any]]:
    """Topics by time-decayed activity, hottest first, scores as of now."""
    pipe = redis_utils.client().pipeline(transaction=False)
    pipe.get(redis_utils.key(keys.TRENDING_EPOCH_KEY))
    pipe.zrevrange(redis_utils.key(keys.TRENDING_KEY), 0, limit - 1, withscores=True)
    epoch, rows = pipe.execute()
    if epoch is None:
        return []
    # Undo the forward decay: stored = weight * 2^((t - epoch) / half_life).
    scale = 2 ** (-(time.time() - float(epoch)) / settings.TRENDING_HALF_LIFE_SECONDS)
    return [{"topic": _text(topic), "score": round(score * scale, 4)} for topic, score in rows]


def trending_with_posts(*, per_topic: int, limit: int = TRENDING_SIZE) -> list[dict[str, Any]]:
    """The trending topics, each with its newest ``per_topic`` live posts."""
    return [
        {"topic": item["topic"], "posts": feed_page(topic=item["topic"])["items"][:per_topic]}
        for item in trending_list(limit=limit)
    ]


def room_key_check(*, room: str) -> str | None:
    """The room's key check blob ("" when its creator gave none), or None when
    the room is gone."""
    found = room_get(room=room)
    return None if found is None else found["key_check"]


def room_get(*, room: str) -> dict[str, Any] | None:
    """``{key_check, kdf}`` of a live room (kdf: a passphrase room's public
    derivation parameters, else None), or None when the room is gone."""
    value = redis_utils.client().get(keys.room_key(room))
    return None if value is None else room_parse(_text(value))


def room_exists(*, room: str) -> bool:
    """True while the room is alive (activity keeps it so)."""
    return bool(redis_utils.client().exists(keys.room_key(room)))


async def room_exists_async(*, room: str) -> bool:
    """:func:`room_exists` on the event loop."""
    return bool(await redis_utils.aclient().exists(keys.room_key(room)))
