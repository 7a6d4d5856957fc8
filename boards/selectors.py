"""Boards reads: feeds, posts, comments, trending, rooms.

Every post and comment carries ``cursor``: its unique, time-ordered score as a
string of digits. A page that lost its live socket passes the newest cursor it
holds back as ``after=`` and gets exactly what it missed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Generator
from itertools import groupby
from typing import Any

from django.conf import settings

from boards import keys, records
from boards.room_kdf import room_parse
from nullboard import cluster, redis_utils

PAGE_SIZE = 20
MAX_COMMENTS = 500  # one post's comment list; rate limits keep it far below
TRENDING_SIZE = 10
# A home-feed entry is written just before its post (boards.services.post_create):
# one this new whose post is missing is skipped, not pruned; older, it is a crash's
# leftover and goes. A minute also covers clocks of web processes a little apart.
SETTLE_SECONDS = 60

_feed_page = redis_utils.lua(
    __file__, "item_key.lua", "record_names.lua", "post_row.lua", "feed_page.lua"
)
_post_rows = redis_utils.lua(__file__, "record_names.lua", "post_row.lua", "post_rows.lua")
_home_ids = redis_utils.lua(__file__, "home_ids.lua")
_comments_list = redis_utils.lua(__file__, "item_key.lua", "record_names.lua", "comments_list.lua")


class ItemHidden(Exception):
    """The item exists but moderation hid it pending review."""


def _cutoff(now: float, ttl: int) -> str:
    return keys.score_floor(int(now), ttl)


def _lower(cutoff: str, after: str | None) -> str:
    """The lowest score a read takes: the TTL cutoff, or just above ``after``."""
    if after and int(after) >= int(cutoff):
        return f"({after}"
    return cutoff


def _feed_args(
    *, topic: str | None, room: str | None, cursor: str | None, after: str | None
) -> tuple[list[str], list[str]]:
    now = time.time()
    cutoff = _cutoff(now, settings.POST_TTL_SECONDS)
    home = not (topic or room)
    table = {
        "fields": records.POST.stored,
        "cutoff": cutoff,
        "upper": f"({cursor}" if cursor else "+inf",
        "lower": _lower(cutoff, after),
        "limit": PAGE_SIZE,
        "post": keys.POST_PARTS,
        "comments": keys.COMMENTS_PARTS,
        "comment_cutoff": _cutoff(now, settings.COMMENT_TTL_SECONDS),
        "now": int(now),
        "settle": _settle(now) if home else False,
        "keep_hidden": home,
    }
    return [keys.feed_key(topic=topic, room=room)], [redis_utils.lua_table(table)]


def _settle(now: float) -> int:
    """The score below which a home entry without its post is a leftover."""
    return (int(now * 1000) - SETTLE_SECONDS * 1000) * 1000


def one_call(*, topic: str | None, room: str | None) -> bool:
    """True when a feed page is one script call: a topic's or a room's feed
    (its posts share its slot), or any feed on a single server."""
    return bool(topic or room) or not cluster.enabled()


# A step of a read made of several script calls: the calls to make (at once),
# answered with their results in the same order.
Calls = list[tuple[redis_utils.LuaScript, list[str], list[str]]]
Walk = Generator[Calls, list[Any], tuple[list[list[Any]], bytes | None]]


def _home_walk(*, cursor: str | None, after: str | None) -> Walk:
    """One page of the home feed on a Redis Cluster, where its posts sit in many
    slots: the page's ids from the home feed, then one call per slot tag for the
    posts' rows (all at once), again while dead ids leave the page short; ids
    whose post is gone are pruned from home in the next call. Gives what
    feed_page.lua gives (hidden posts and entries of posts still being written
    are skipped, as there)."""
    now = time.time()
    cutoff = _cutoff(now, settings.POST_TTL_SECONDS)
    settle = _settle(now)
    reader = redis_utils.lua_table(
        {
            "fields": records.POST.stored,
            "now": int(now),
            "comment_cutoff": _cutoff(now, settings.COMMENT_TTL_SECONDS),
        }
    )
    home = [keys.FEED_HOME()]
    step = {"cutoff": cutoff, "upper": f"({cursor}" if cursor else "+inf"}
    step["lower"] = _lower(cutoff, after)
    rows: list[list[Any]] = []
    gone: list[str] = []
    last: bytes | None = None
    more = False
    while not more:
        want = PAGE_SIZE - len(rows) + 1
        args = redis_utils.lua_table({**step, "gone": gone, "want": want})
        (batch,) = yield [(_home_ids, home, [args])]
        gone = []
        entries = [(batch[i].decode(), batch[i + 1]) for i in range(0, len(batch), 2)]
        ids = sorted(item_id for item_id, _ in entries)
        groups = [list(group) for _, group in groupby(ids, key=keys.tag_of)]
        found = yield [
            (
                _post_rows,
                [*map(keys.post_key, group), *map(keys.post_comments_key, group)],
                [reader],
            )
            for group in groups
        ]
        by_id = {
            item_id: row
            for group, result in zip(groups, found, strict=True)
            for item_id, row in zip(group, result, strict=True)
        }
        for item_id, score in entries:
            row = by_id[item_id]
            if isinstance(row, list):
                if len(rows) == PAGE_SIZE:
                    more = True  # one live post past the page: there is a next page
                    break
                rows.append(row)
                last = score
            elif row == b"gone" and int(score) < settle:
                gone.append(item_id)
            step["upper"] = "(" + score.decode()
        if len(entries) < want:
            break  # the feed has nothing older
    if gone:
        yield [(_home_ids, home, [redis_utils.lua_table({**step, "gone": gone, "want": 0})])]
    return rows, last if more else None


def _run(walk: Walk) -> tuple[list[list[Any]], bytes | None]:
    """A walk's calls, one after another, on this thread's client."""
    try:
        calls = next(walk)
        while True:
            calls = walk.send([script(keys_, args) for script, keys_, args in calls])
    except StopIteration as done:
        result: tuple[list[list[Any]], bytes | None] = done.value
        return result


async def _arun(walk: Walk) -> tuple[list[list[Any]], bytes | None]:
    """A walk's calls on the event loop, each step's calls concurrently."""
    try:
        calls = next(walk)
        while True:
            found = await asyncio.gather(*(s.acall(keys_, args) for s, keys_, args in calls))
            calls = walk.send(list(found))
    except StopIteration as done:
        result: tuple[list[list[Any]], bytes | None] = done.value
        return result


def feed_rows(
    *,
    topic: str | None = None,
    room: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> tuple[list[list[Any]], bytes | None]:
    """One page of a feed, newest first, as ``(rows, next_cursor)``: rows of
    :data:`boards.records.POST` (``records.POST.from_row`` makes each a post).

    The cursor is the last item's unique score, so walking it sees each post
    once even while new posts arrive (they sort above the walk). ``after``
    bounds the walk below: only posts newer than that cursor (a catch-up).
    """
    if not one_call(topic=topic, room=room):
        return _run(_home_walk(cursor=cursor, after=after))
    rows, next_cursor = _feed_page(*_feed_args(topic=topic, room=room, cursor=cursor, after=after))
    return rows, next_cursor or None


def _feed_result(rows: list[list[Any]], next_cursor: bytes | None) -> dict[str, Any]:
    return {
        "items": [records.POST.from_row(row) for row in rows],
        "next_cursor": next_cursor.decode() if next_cursor else None,
    }


def _page_json(rows: list[list[Any]], next_cursor: bytes | None) -> bytes | None:
    """The page as ``json.dumps`` writes it, from the script's rows, or None when
    a value would need escaping (then json.dumps itself does it)."""
    items = []
    for row in rows:
        item = records.POST.row_json(row)
        if item is None:
            return None
        items.append(item)
    if next_cursor is None:
        cursor = b"null"
    elif _DIGITS.fullmatch(next_cursor):
        cursor = b'"' + next_cursor + b'"'
    else:
        return None
    return b'{"items": [' + b", ".join(items) + b'], "next_cursor": ' + cursor + b"}"


_DIGITS = re.compile(rb"[0-9]+")


async def feed_page_json(
    *,
    topic: str | None = None,
    room: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> bytes:
    """A page of :func:`feed_rows` as the API's JSON bytes, on the event loop: one
    EVALSHA for a topic or a room (and for home on a single server), no thread.

    The bytes are exactly ``json.dumps`` of ``{items, next_cursor}`` (tests check
    it), written straight from the script's rows: no dicts, no encoder. The
    work stays here, not in Lua: Redis is the one resource every web process
    shares, so the script fetches rows and prunes dead ids, nothing more.
    """
    if one_call(topic=topic, room=room):
        keys_, args = _feed_args(topic=topic, room=room, cursor=cursor, after=after)
        rows, next_cursor = await _feed_page.acall(keys_, args)
        next_cursor = next_cursor or None
    else:
        rows, next_cursor = await _arun(_home_walk(cursor=cursor, after=after))
    found = _page_json(rows, next_cursor)
    if found is None:
        return json.dumps(_feed_result(rows, next_cursor)).encode()
    return found


def post_get(*, post_id: str) -> records.Post | None:
    """A live, visible post with its comment count, or None."""
    try:
        return post_find(post_id=post_id)
    except ItemHidden:
        return None


def post_find(*, post_id: str) -> records.Post | None:
    """A live post with its comment count, or None when it is gone.

    Raises ItemHidden while moderation hides it (the hash stays until its TTL).
    """
    now = time.time()
    pipe = redis_utils.client().pipeline(transaction=False)
    pipe.hmget(keys.post_key(post_id), [*records.POST.stored, records.HIDDEN])
    pipe.zcount(keys.post_comments_key(post_id), _cutoff(now, settings.COMMENT_TTL_SECONDS), "+inf")
    (*fields, hidden), comments = pipe.execute()
    found = dict(zip(records.POST.stored, fields, strict=True))
    if found["id"] is None or int(found["expires_at"]) <= now:
        return None
    if hidden is not None:
        raise ItemHidden(post_id)
    return records.POST.from_row([*fields, comments])


def comments_list(*, post_id: str, after: str | None = None) -> list[records.Comment] | None:
    """A post's live comments, oldest first; None when the post is gone or hidden."""
    try:
        return comments_find(post_id=post_id, after=after)
    except ItemHidden:
        return None


def comments_find(*, post_id: str, after: str | None = None) -> list[records.Comment] | None:
    """A post's live comments, oldest first (only those newer than the cursor
    ``after`` when given); None when the post is gone.

    Raises ItemHidden while moderation hides the post.
    """
    now = time.time()
    cutoff = _cutoff(now, settings.COMMENT_TTL_SECONDS)
    table = {
        "fields": records.COMMENT.stored,
        "comment": keys.COMMENT_PARTS,
        "cutoff": cutoff,
        "now": int(now),
        "limit": MAX_COMMENTS,
        "lower": _lower(cutoff, after),
    }
    rows = _comments_list(
        [keys.post_key(post_id), keys.post_comments_key(post_id)], [redis_utils.lua_table(table)]
    )
    if rows is None:
        return None
    if not isinstance(rows, list):
        raise ItemHidden(post_id)
    return [records.COMMENT.from_row(row) for row in rows]


def comment_get(*, comment_id: str) -> records.Comment | None:
    """A live, visible comment, or None."""
    *fields, hidden = redis_utils.client().hmget(
        keys.comment_key(comment_id), [*records.COMMENT.stored, records.HIDDEN]
    )
    found = dict(zip(records.COMMENT.stored, fields, strict=True))
    expires_at = found["expires_at"]
    if found["id"] is None or hidden is not None or expires_at is None:
        return None
    if int(expires_at) <= time.time():
        return None
    return records.COMMENT.from_row(fields)


def trending_list(*, limit: int = TRENDING_SIZE) -> list[dict[str, Any]]:
    """Topics by time-decayed activity, hottest first, scores as of now."""
    pipe = redis_utils.client().pipeline(transaction=False)
    pipe.get(keys.TRENDING_EPOCH())
    pipe.zrevrange(keys.TRENDING(), 0, limit - 1, withscores=True)
    epoch, rows = pipe.execute()
    if epoch is None:
        return []
    # Undo the forward decay: stored = weight * 2^((t - epoch) / half_life).
    scale = 2 ** (-(time.time() - float(epoch)) / settings.TRENDING_HALF_LIFE_SECONDS)
    return [
        {"topic": records.text(topic), "score": round(score * scale, 4)} for topic, score in rows
    ]


def trending_with_posts(*, per_topic: int, limit: int = TRENDING_SIZE) -> list[dict[str, Any]]:
    """The trending topics, each with its newest ``per_topic`` live posts."""
    return [
        {
            "topic": item["topic"],
            "posts": [records.POST.from_row(row) for row in feed_rows(topic=item["topic"])[0]][
                :per_topic
            ],
        }
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
    return None if value is None else room_parse(records.text(value))


def room_exists(*, room: str) -> bool:
    """True while the room is alive (activity keeps it so)."""
    return bool(redis_utils.client().exists(keys.room_key(room)))


async def room_exists_async(*, room: str) -> bool:
    """:func:`room_exists` on the event loop."""
    return bool(await redis_utils.aclient().exists(keys.room_key(room)))
