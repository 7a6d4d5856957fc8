"""Boards writes: posts, comments, rooms and moderation. The service that writes
also publishes the live event, so an item made from a view, a consumer or a
command reaches every subscriber.

Each write to an item is one Lua script in the item's slot (boards.keys). What
also touches a global key (the home feed, trending, the moderation log) is a
few single-slot steps, in an order where a crash between two of them leaves
nothing visible half-written (docs/scaling.md, "Redis Cluster"):

- an index entry the readers check against the record goes first where the
  record would otherwise show without it (the home feed's entry of a new or
  restored post: readers skip it while the post is missing or hidden);
- what follows the item's step is a clean-up or a count (the home entry of a
  hidden or removed post, which readers skip and prune; the trending bump; the
  public log's count): idempotent or harmless to lose, so an outage there is
  logged and the write still answers as done.
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

POST_WEIGHT = 3  # a post moves a topic three times as much as a comment
COMMENT_WEIGHT = 1
TRENDING_THROTTLE_SECONDS = 5  # at most one topics:trending per topic per 5 s

_home_add = redis_utils.lua(__file__, "home_add.lua")
_post_create = redis_utils.lua(__file__, "post_create.lua")
_comment_create = redis_utils.lua(__file__, "comment_create.lua")
_trending_bump = redis_utils.lua(__file__, "trending_bump.lua", "trending_step.lua")
_modlog_add = redis_utils.lua(__file__, "modlog.lua")
_post_hide = redis_utils.lua(__file__, "post_hide.lua")
_post_remove = redis_utils.lua(__file__, "item_key.lua", "post_remove.lua")
_comment_hide = redis_utils.lua(__file__, "comment_hide.lua")
_comment_remove = redis_utils.lua(__file__, "comment_remove.lua")
_post_unhide = redis_utils.lua(__file__, "post_unhide.lua")
_comment_unhide = redis_utils.lua(__file__, "comment_unhide.lua")


class BoardsError(Exception):
    """A write the store refused: the room or post is gone."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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


def _post_plan(
    *, topic: str | None, room: str | None, blob: str, author: str
) -> tuple[list[str], dict[str, Any], dict[str, Any], list[str] | None]:
    """A post's steps without their I/O: the post script's keys and argument table
    (a topic post's table gets its home score from step 1), the post's fields, and
    step 1's argument (the home entry; None for a room post)."""
    if topic and not room:
        kind, target, valid = "topic", topic, is_topic(topic)
    elif room and not topic:
        kind, target, valid = "room", room, is_room(room)
    else:
        raise ValueError("a post goes to exactly one topic or room")
    if not valid:
        raise ValueError("invalid topic or room")
    post_id = keys.new_item_id(keys.feed_tag(topic=topic, room=room))
    now_ms, now = _clock()
    values = {
        "id": post_id,
        kind: target,
        "author": author,
        "blob": blob,
        "created_at": now,
        "expires_at": now + settings.POST_TTL_SECONDS,
    }
    cutoff = keys.score_floor(now, settings.POST_TTL_SECONDS)
    table: dict[str, Any] = {
        "record": records.POST.to_hash(values),
        "id": post_id,
        "kind": kind,
        "post_ttl": settings.POST_TTL_SECONDS,
        "room_ttl": settings.ROOM_TTL_SECONDS,
        "cutoff": cutoff,
    }
    post_keys = [
        keys.post_key(post_id),
        keys.seq_key(post_id),
        keys.feed_key(topic=topic, room=room),
    ]
    home: list[str] | None = None
    if topic:
        home = _home_args(post_id, now_ms=now_ms, cutoff=cutoff)
    else:
        table["now_ms"] = str(now_ms)
        post_keys.append(keys.room_key(target))
    return post_keys, table, values, home


def post_create(
    *, topic: str | None = None, room: str | None = None, blob: str, author: str
) -> records.Post:
    """Store a post and announce it live.

    A topic post: (1) its home-feed entry, which gives its score (readers skip
    an entry whose post is not there yet, and prune it once it is older than
    ``selectors.SETTLE_SECONDS``: a crash after this step shows nothing); (2) the
    post and its topic-feed entry, one script in the topic's slot; (3) the
    trending bump (best effort). A room post is step 2 alone.

    Raises BoardsError("no_room") when the room has expired.
    """
    post_keys, table, values, home = _post_plan(topic=topic, room=room, blob=blob, author=author)
    if home is not None:
        table["score"] = records.text(_home_add([keys.FEED_HOME(), keys.HOME_SEQ()], home))
    try:
        score = _post_create(post_keys, [redis_utils.lua_table(table)])
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    post = records.POST.from_hash({**values, "comment_count": 0, "score": score})
    events.publish(events.groups_for(topic=topic, room=room), "post:new", post)
    if topic:  # only a topic's post bumps trending
        _trending(topic=topic, weight=POST_WEIGHT, now=int(values["created_at"]))
    return post


async def apost_create(
    *, topic: str | None = None, room: str | None = None, blob: str, author: str
) -> records.Post:
    """:func:`post_create` on the event loop: the same steps in the same order (home
    entry, post + topic feed, trending bump), the same events, no thread (the rare
    trending announcement, throttled per topic, takes one)."""
    post_keys, table, values, home = _post_plan(topic=topic, room=room, blob=blob, author=author)
    if home is not None:
        score = await _home_add.acall([keys.FEED_HOME(), keys.HOME_SEQ()], home)
        table["score"] = records.text(score)
    try:
        score = await _post_create.acall(post_keys, [redis_utils.lua_table(table)])
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    post = records.POST.from_hash({**values, "comment_count": 0, "score": score})
    await events.apublish(events.groups_for(topic=topic, room=room), "post:new", post)
    if topic:  # only a topic's post bumps trending
        await _atrending(topic=topic, weight=POST_WEIGHT, now=int(values["created_at"]))
    return post


def _home_args(post_id: str, *, now_ms: int, cutoff: str) -> list[str]:
    """The home_add script's argument for a new topic post's home-feed entry (its
    first step; the script answers the post's unique score)."""
    table = {"id": post_id, "now_ms": str(now_ms), "cutoff": cutoff}
    return [redis_utils.lua_table({**table, "ttl": settings.POST_TTL_SECONDS})]


def _home_entry(post_id: str, *, now_ms: int, cutoff: str) -> str:
    """A new topic post's home-feed entry (its first step); its unique score."""
    args = _home_args(post_id, now_ms=now_ms, cutoff=cutoff)
    return records.text(_home_add([keys.FEED_HOME(), keys.HOME_SEQ()], args))


def comment_create(*, post_id: str, blob: str, author: str) -> records.Comment:
    """Store a comment (capped by its post's life) in its post's slot, announce it
    live, then bump its topic's trending weight (best effort).

    Raises BoardsError("no_post") when the post is gone or hidden.
    """
    post = selectors.post_get(post_id=post_id)
    if post is None:
        raise BoardsError("no_post")
    topic, room = post.get("topic"), post.get("room")
    comment_id = keys.new_item_id(keys.tag_of(post_id))
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
        "post_ttl": settings.POST_TTL_SECONDS,
    }
    comment_keys = [
        keys.post_key(post_id),
        keys.comment_key(comment_id),
        keys.post_comments_key(post_id),
        keys.seq_key(post_id),
    ]
    if room:
        comment_keys.append(keys.room_key(room))
    try:
        score, expires_at = _comment_create(comment_keys, [redis_utils.lua_table(table)])
    except ResponseError as exc:
        raise BoardsError(_error_code(exc)) from None
    comment = records.COMMENT.from_hash({**values, "expires_at": expires_at, "score": score})
    where = {"topic": topic} if topic else {"room": room}
    events.publish(events.groups_for(**where), "comment:new", {**comment, **where})
    if topic:  # only a comment under a topic's post bumps trending
        _trending(topic=topic, weight=COMMENT_WEIGHT, now=now)
    return comment


def _trending_args(*, topic: str, weight: int, now: int) -> tuple[list[str], list[str]]:
    table = {
        "topic": topic,
        "weight": weight,
        "now": now,
        "half_life": settings.TRENDING_HALF_LIFE_SECONDS,
        "ttl": settings.POST_TTL_SECONDS,
        "throttle": TRENDING_THROTTLE_SECONDS,
    }
    trending_keys = [keys.TRENDING(), keys.TRENDING_EPOCH(), keys.trending_throttle_key(topic)]
    return trending_keys, [redis_utils.lua_table(table)]


def _trending(*, topic: str, weight: int, now: int) -> None:
    """Bump the topic's trending weight after its post or comment is stored, and
    announce the change (throttled per topic). Best effort: the item is stored
    and announced already, and a lost bump only makes trending less exact."""
    try:
        announce = _trending_bump(*_trending_args(topic=topic, weight=weight, now=now))
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Trending not bumped: Redis unreachable")
        return
    if announce:
        trending_announce(topic=topic)


async def _atrending(*, topic: str, weight: int, now: int) -> None:
    """:func:`_trending` on the event loop (the announcement, once per 5 s per
    topic at most, reads the list in a thread)."""
    try:
        announce = await _trending_bump.acall(*_trending_args(topic=topic, weight=weight, now=now))
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Trending not bumped: Redis unreachable")
        return
    if announce:
        await sync_to_async(trending_announce, thread_sensitive=False)(topic=topic)


def trending_announce(*, topic: str) -> None:
    """Tell every socket the trending list changed (callers throttle per topic)."""
    items = selectors.trending_list()
    events.publish([events.TRENDING_GROUP], "topics:trending", {"topic": topic, "items": items})


# --- Moderation -----------------------------------------------------------------
# The moderation app's flags and commands call these; each changes the item in one
# script in its slot, then (a step each) the home feed and the public moderation
# log (moderation.log), and tells live clients, so the item disappears from open
# pages too.


def _log(action: str, kind: str, reason: str) -> None:
    """Count a done action in the public log: the step after the action. The log
    speaks only of what happened: a crash between the two loses that one count,
    and no count is ever written for an action that did not happen."""
    now = int(time.time())
    ttl = max(settings.POST_TTL_SECONDS, settings.COMMENT_TTL_SECONDS)
    entry = modlog_entry(action=action, kind=kind, reason=reason, now=now)
    log = {"entry": entry, "until": now + ttl, "now": now, "ttl": ttl}
    try:
        _modlog_add([keys.modlog_key()], [redis_utils.lua_table(log)])
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Moderation action not counted in the public log: Redis unreachable")


def _home_drop(post_id: str, where: dict[str, str]) -> None:
    """Take a hidden or removed topic post off the home feed: the step after the
    post's own. Idempotent; until it runs, readers skip (and prune) the entry."""
    if "topic" not in where:
        return  # room posts never reach the home feed
    try:
        redis_utils.client().zrem(keys.FEED_HOME(), post_id)
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Home feed entry left to readers to prune: Redis unreachable")


def _item(item_id: str, **more: Any) -> list[str]:
    """A moderation script's one argument: the item's id, and ``more``."""
    return [redis_utils.lua_table({"id": item_id, **more})]


def _post_place(post_id: str) -> tuple[dict[str, str], bytes | None] | None:
    """The post's topic or room and its score, or None if it is gone."""
    # As bytes: the client does not decode replies.
    raw = cast(
        list[bytes | None],
        redis_utils.client().hmget(keys.post_key(post_id), "topic", "room", "score"),
    )
    topic, room, score = raw
    if topic:
        return {"topic": topic.decode()}, score
    if room:
        return {"room": room.decode()}, score
    return None


def post_hide(*, post_id: str, reason: str = "") -> bool:
    """Hide a post from every feed and tell live clients (``post:hidden``)."""
    if not is_item_id(post_id) or (found := _post_place(post_id)) is None:
        return False
    where, _ = found
    hidden = _post_hide([keys.post_key(post_id), keys.feed_key(**where)], _item(post_id))
    _home_drop(post_id, where)  # also when a retry finds it hidden already
    if not hidden:
        return False
    _log("hidden", "post", reason)
    events.publish(events.groups_for(**where), "post:hidden", {"id": post_id, **where})
    return True


def post_unhide(*, post_id: str, reason: str = "") -> bool | None:
    """Show a hidden post again in its feeds (``post:restored`` to live clients).

    A topic post's home entry goes back first (readers skip it while the post is
    hidden), then the post is shown in its topic: a crash between shows nothing
    half-done, and a retry completes it.

    True if shown again, False if it was not hidden, None if it is gone.
    """
    if not is_item_id(post_id) or (found := _post_place(post_id)) is None:
        return None
    where, score = found
    if "topic" in where and score is not None:
        table = {"id": post_id, "score": score.decode(), "ttl": settings.POST_TTL_SECONDS}
        table["cutoff"] = keys.score_floor(int(time.time()), settings.POST_TTL_SECONDS)
        _home_add([keys.FEED_HOME(), keys.HOME_SEQ()], [redis_utils.lua_table(table)])
    result = _post_unhide([keys.post_key(post_id), keys.feed_key(**where)], _item(post_id))
    if result < 0:
        return None
    if result == 0:
        return False
    _log("restored", "post", reason)
    post = selectors.post_get(post_id=post_id)
    if post is not None:
        events.publish(events.groups_for(**where), "post:restored", dict(post))
    return True


def post_remove(*, post_id: str, reason: str = "") -> bool:
    """Delete a post and all its comments; tell live clients (``post:removed``)."""
    if not is_item_id(post_id) or (found := _post_place(post_id)) is None:
        return False
    where, _ = found
    removed = _post_remove(
        [
            keys.post_key(post_id),
            keys.feed_key(**where),
            keys.post_comments_key(post_id),
            keys.post_hidden_comments_key(post_id),
        ],
        _item(post_id, comment=keys.COMMENT_PARTS),
    )
    _home_drop(post_id, where)
    if not removed:
        return False
    _log("removed", "post", reason)
    events.publish(events.groups_for(**where), "post:removed", {"id": post_id, **where})
    return True


def _comment_place(comment_id: str) -> tuple[str, dict[str, str]] | None:
    """The comment's post id and that post's topic or room, or None."""
    # As bytes: the client does not decode replies.
    raw = cast(bytes | None, redis_utils.client().hget(keys.comment_key(comment_id), "post"))
    if raw is None:
        return None
    post_id = raw.decode()
    found = _post_place(post_id)
    return post_id, (found[0] if found else {})


def _comment_keys(comment_id: str, post_id: str) -> list[str]:
    """The comment, its post's shown and hidden lists, and the post: one slot (a
    comment id starts with its post's tag)."""
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
    if not _comment_hide(_comment_keys(comment_id, post_id), _item(comment_id)):
        return False
    _log("hidden", "comment", reason)
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
    result = _comment_unhide(_comment_keys(comment_id, post_id), _item(comment_id))
    if result < 0:
        return None
    if result == 0:
        return False
    _log("restored", "comment", reason)
    comment = selectors.comment_get(comment_id=comment_id)
    if comment is not None:
        events.publish(events.groups_for(**where), "comment:restored", {**comment, **where})
    return True


def comment_remove(*, comment_id: str, reason: str = "") -> bool:
    """Delete a comment everywhere; tell live clients (``comment:removed``)."""
    if not is_item_id(comment_id) or (place := _comment_place(comment_id)) is None:
        return False
    post_id, where = place
    if not _comment_remove(_comment_keys(comment_id, post_id)[:3], _item(comment_id)):
        return False
    _log("removed", "comment", reason)
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
