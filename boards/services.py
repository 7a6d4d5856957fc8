"""Boards writes: posts, comments, rooms and moderation. Each write is one Lua
script, and the service that writes also publishes the live event, so an item
made from a view, a consumer or a command reaches every subscriber."""

from __future__ import annotations

import secrets
import time
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from redis.exceptions import ResponseError

from boards import events, keys, records, selectors
from boards.room_kdf import RoomKdf, room_value
from boards.validation import is_item_id, is_room, is_topic
from moderation.log import modlog_entry
from nullboard import redis_utils

POST_WEIGHT = 3  # a post moves a topic three times as much as a comment
COMMENT_WEIGHT = 1
TRENDING_THROTTLE_SECONDS = 5  # at most one topics:trending per topic per 5 s

# Both writes bump trending: the shared function goes first in each script.
_post_create = redis_utils.lua(__file__, "trending_bump.lua", "post_create.lua")
_comment_create = redis_utils.lua(__file__, "trending_bump.lua", "comment_create.lua")
_post_hide = redis_utils.lua(__file__, "modlog.lua", "post_hide.lua")
_post_remove = redis_utils.lua(__file__, "modlog.lua", "post_remove.lua")
_comment_hide = redis_utils.lua(__file__, "modlog.lua", "comment_hide.lua")
_comment_remove = redis_utils.lua(__file__, "modlog.lua", "comment_remove.lua")
_post_unhide = redis_utils.lua(__file__, "modlog.lua", "post_unhide.lua")
_comment_unhide = redis_utils.lua(__file__, "modlog.lua", "comment_unhide.lua")


class BoardsError(Exception):
    """A write the store refused: the room or post is gone."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _new_id() -> str:
    return secrets.token_hex(8)


def _clock() -> tuple[int, int]:
    """(now in ms, now in s) from Python's clock, so tests can pin it."""
    now = time.time()
    return int(now * 1000), int(now)


def room_create(*, key_check: str = "", kdf: RoomKdf | None = None) -> dict[str, Any]:
    """Open a private room with an unguessable id (128 random bits).

    ``key_check`` is a constant the creator's browser sealed with the room key;
    it is kept as the room's value so pages can tell a wrong key ("1": none).
    ``kdf`` (passphrase rooms) holds the public salt and iteration count the
    browser derives the key with; it is kept in the same value, so it lives and
    expires with the room.
    """
    room = secrets.token_urlsafe(16)
    value = room_value(key_check=key_check, kdf=kdf)
    redis_utils.client().set(keys.room_key(room), value, ex=settings.ROOM_TTL_SECONDS)
    return {"room": room, "url": f"/r/{room}"}


def _post_script(
    *, topic: str | None, room: str | None, blob: str, author: str
) -> tuple[list[str], list[str], dict[str, Any]]:
    """The post script's keys and argument, and the post's fields."""
    if topic and not room:
        kind, target, second, valid = "topic", topic, keys.feed_key(), is_topic(topic)
    elif room and not topic:
        kind, target, second, valid = "room", room, keys.room_key(room), is_room(room)
    else:
        raise ValueError("a post goes to exactly one topic or room")
    if not valid:
        raise ValueError("invalid topic or room")
    post_id = _new_id()
    now_ms, now = _clock()
    values = {
        "id": post_id,
        kind: target,
        "author": author,
        "blob": blob,
        "created_at": now,
        "expires_at": now + settings.POST_TTL_SECONDS,
    }
    table = {
        "record": records.POST.to_hash(values),
        "id": post_id,
        "kind": kind,
        "target": target,
        "now_ms": str(now_ms),
        "now": now,
        "post_ttl": settings.POST_TTL_SECONDS,
        "room_ttl": settings.ROOM_TTL_SECONDS,
        "cutoff": keys.score_floor(now, settings.POST_TTL_SECONDS),
        "weight": POST_WEIGHT,
        "half_life": settings.TRENDING_HALF_LIFE_SECONDS,
        "throttle": TRENDING_THROTTLE_SECONDS,
    }
    script_keys = [
        keys.post_key(post_id),
        keys.SEQ(),
        keys.feed_key(topic=topic, room=room),
        second,
        keys.TRENDING(),
        keys.TRENDING_EPOCH(),
        keys.trending_throttle_key(topic or "-"),
    ]
    return script_keys, [redis_utils.lua_table(table)], values


def post_create(
    *, topic: str | None = None, room: str | None = None, blob: str, author: str
) -> records.Post:
    """Store a post in one atomic step and announce it live.

    Raises BoardsError("no_room") when the room has expired.
    """
    script_keys, args, values = _post_script(topic=topic, room=room, blob=blob, author=author)
    try:
        score, publish_trending = _post_create(script_keys, args)
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    post = records.POST.from_hash({**values, "comment_count": 0, "score": score})
    events.publish(events.groups_for(topic=topic, room=room), "post:new", post)
    if publish_trending and topic:  # only a topic's post bumps trending
        trending_announce(topic=topic)
    return post


async def apost_create(
    *, topic: str | None = None, room: str | None = None, blob: str, author: str
) -> records.Post:
    """:func:`post_create` on the event loop: the same script and events, no thread
    (the rare trending announcement, throttled per topic, takes one)."""
    script_keys, args, values = _post_script(topic=topic, room=room, blob=blob, author=author)
    try:
        score, publish_trending = await _post_create.acall(script_keys, args)
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    post = records.POST.from_hash({**values, "comment_count": 0, "score": score})
    await events.apublish(events.groups_for(topic=topic, room=room), "post:new", post)
    if publish_trending and topic:
        await sync_to_async(trending_announce, thread_sensitive=False)(topic=topic)
    return post


def comment_create(*, post_id: str, blob: str, author: str) -> records.Comment:
    """Store a comment (capped by its post's life) and announce it live.

    Raises BoardsError("no_post") when the post is gone or hidden.
    """
    post = selectors.post_get(post_id=post_id)
    if post is None:
        raise BoardsError("no_post")
    topic, room = post.get("topic"), post.get("room")
    comment_id = _new_id()
    now_ms, now = _clock()
    values = {"id": comment_id, "post": post_id, "author": author, "blob": blob, "created_at": now}
    table = {
        "record": records.COMMENT.to_hash(values),
        "id": comment_id,
        "now_ms": str(now_ms),
        "now": now,
        "comment_ttl": settings.COMMENT_TTL_SECONDS,
        "cutoff": keys.score_floor(now, settings.COMMENT_TTL_SECONDS),
        "room_ttl": settings.ROOM_TTL_SECONDS,
        "weight": COMMENT_WEIGHT,
        "half_life": settings.TRENDING_HALF_LIFE_SECONDS,
        "throttle": TRENDING_THROTTLE_SECONDS,
        "post_ttl": settings.POST_TTL_SECONDS,
    }
    try:
        score, expires_at, publish_trending = _comment_create(
            [
                keys.post_key(post_id),
                keys.comment_key(comment_id),
                keys.post_comments_key(post_id),
                keys.SEQ(),
                keys.room_key(room or "-"),
                keys.TRENDING(),
                keys.TRENDING_EPOCH(),
                keys.trending_throttle_key(topic or "-"),
            ],
            [redis_utils.lua_table(table)],
        )
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    comment = records.COMMENT.from_hash({**values, "expires_at": expires_at, "score": score})
    where = {"topic": topic} if topic else {"room": room}
    events.publish(events.groups_for(**where), "comment:new", {**comment, **where})
    if publish_trending and topic:  # only a comment under a topic's post bumps trending
        trending_announce(topic=topic)
    return comment


def trending_announce(*, topic: str) -> None:
    """Tell every socket the trending list changed (callers throttle per topic)."""
    items = selectors.trending_list()
    events.publish([events.TRENDING_GROUP], "topics:trending", {"topic": topic, "items": items})


# --- Moderation -----------------------------------------------------------------
# The moderation app's flags and commands call these; each changes Redis atomically and then
# tells live clients, so the item disappears from open pages too. Each also
# counts itself in the public moderation log inside the same script (see
# modlog.lua and moderation.log), so a count never drifts from what happened.


def _log(action: str, kind: str, reason: str) -> tuple[str, dict[str, str | int]]:
    """The log key and the script's ``log`` table for one public log entry."""
    now = int(time.time())
    ttl = max(settings.POST_TTL_SECONDS, settings.COMMENT_TTL_SECONDS)
    entry = modlog_entry(action=action, kind=kind, reason=reason, now=now)
    return keys.modlog_key(), {"entry": entry, "until": now + ttl, "now": now, "ttl": ttl}


def _table(item_id: str, log: dict[str, str | int], **more: str) -> list[str]:
    """A moderation script's one argument: the item, its log entry, and ``more``."""
    return [redis_utils.lua_table({"id": item_id, "log": log, **more})]


def _post_keys(post_id: str) -> tuple[dict[str, str], list[str]] | None:
    """The post's placement and its feed keys, or None if it is gone."""
    # As bytes: the client does not decode replies.
    raw = cast(
        list[bytes | None], redis_utils.client().hmget(keys.post_key(post_id), "topic", "room")
    )
    topic, room = (value.decode() if value else None for value in raw)
    if topic:
        where = {"topic": topic}
    elif room:
        where = {"room": room}
    else:
        return None
    feeds = [keys.feed_key(**where), keys.feed_key()]
    return where, feeds


def post_hide(*, post_id: str, reason: str = "") -> bool:
    """Hide a post from every feed and tell live clients (``post:hidden``)."""
    if not is_item_id(post_id) or (found := _post_keys(post_id)) is None:
        return False
    where, feeds = found
    log_key, log = _log("hidden", "post", reason)
    if not _post_hide([keys.post_key(post_id), *feeds, log_key], _table(post_id, log)):
        return False
    events.publish(events.groups_for(**where), "post:hidden", {"id": post_id, **where})
    return True


def post_unhide(*, post_id: str, reason: str = "") -> bool | None:
    """Show a hidden post again in its feeds (``post:restored`` to live clients).

    True if shown again, False if it was not hidden, None if it is gone.
    """
    if not is_item_id(post_id) or (found := _post_keys(post_id)) is None:
        return None
    where, feeds = found
    kind = "topic" if "topic" in where else "room"
    log_key, log = _log("restored", "post", reason)
    post_keys = [keys.post_key(post_id), *feeds, log_key]
    result = _post_unhide(post_keys, _table(post_id, log, kind=kind))
    if result < 0:
        return None
    if result == 0:
        return False
    post = selectors.post_get(post_id=post_id)
    if post is not None:
        events.publish(events.groups_for(**where), "post:restored", dict(post))
    return True


def post_remove(*, post_id: str, reason: str = "") -> bool:
    """Delete a post and all its comments; tell live clients (``post:removed``)."""
    if not is_item_id(post_id) or (found := _post_keys(post_id)) is None:
        return False
    where, feeds = found
    log_key, log = _log("removed", "post", reason)
    removed = _post_remove(
        [
            keys.post_key(post_id),
            *feeds,
            keys.post_comments_key(post_id),
            keys.post_hidden_comments_key(post_id),
            log_key,
        ],
        _table(post_id, log, prefix=keys.COMMENT_PREFIX),
    )
    if not removed:
        return False
    events.publish(events.groups_for(**where), "post:removed", {"id": post_id, **where})
    return True


def _comment_place(comment_id: str) -> tuple[str, dict[str, str]] | None:
    """The comment's post id and that post's topic or room, or None."""
    # As bytes: the client does not decode replies.
    raw = cast(bytes | None, redis_utils.client().hget(keys.comment_key(comment_id), "post"))
    if raw is None:
        return None
    post_id = raw.decode()
    found = _post_keys(post_id)
    return post_id, (found[0] if found else {})


def _comment_keys(comment_id: str, post_id: str) -> list[str]:
    """The comment, its post's shown and hidden lists, and the post (for its count)."""
    return [
        keys.comment_key(comment_id),
        keys.post_comments_key(post_id),
        keys.post_hidden_comments_key(post_id),
        keys.post_key(post_id),
    ]


def comment_hide(*, comment_id: str, reason: str = "") -> bool:
    """Hide a comment from its post's list; tell live clients (``comment:hidden``)."""
    if not is_item_id(comment_id) or (place := _comment_place(comment_id)) is None:
        return False
    post_id, where = place
    log_key, log = _log("hidden", "comment", reason)
    hidden = _comment_hide([*_comment_keys(comment_id, post_id), log_key], _table(comment_id, log))
    if not hidden:
        return False
    payload = {"id": comment_id, "post": post_id, **where}
    events.publish(events.groups_for(**where), "comment:hidden", payload)
    return True


def comment_unhide(*, comment_id: str, reason: str = "") -> bool | None:
    """Show a hidden comment again (``comment:restored`` to live clients).

    True if shown again, False if it was not hidden, None if it or its post is gone.
    """
    if not is_item_id(comment_id) or (place := _comment_place(comment_id)) is None:
        return None
    post_id, where = place
    log_key, log = _log("restored", "comment", reason)
    result = _comment_unhide(
        [*_comment_keys(comment_id, post_id), log_key], _table(comment_id, log)
    )
    if result < 0:
        return None
    if result == 0:
        return False
    comment = selectors.comment_get(comment_id=comment_id)
    if comment is not None:
        events.publish(events.groups_for(**where), "comment:restored", {**comment, **where})
    return True


def comment_remove(*, comment_id: str, reason: str = "") -> bool:
    """Delete a comment everywhere; tell live clients (``comment:removed``)."""
    if not is_item_id(comment_id) or (place := _comment_place(comment_id)) is None:
        return False
    post_id, where = place
    log_key, log = _log("removed", "comment", reason)
    removed = _comment_remove(
        [*_comment_keys(comment_id, post_id)[:3], log_key], _table(comment_id, log)
    )
    if not removed:
        return False
    payload = {"id": comment_id, "post": post_id, **where}
    events.publish(events.groups_for(**where), "comment:removed", payload)
    return True


def _error_code(exc: ResponseError) -> str:
    """The refusal a script raised with ``redis.error_reply``; anything else re-raises."""
    text = str(exc)
    for code in ("no_room", "no_post"):
        if code in text:
            return code
    raise exc
