"""Redis key formats of boards and the patterns that match them, declared once
(format with validated parts only; stats and purge match keys with these)."""

from __future__ import annotations

from nullboard.redis_utils import KeyFormat

# What each part of a key may be (boards.validation checks input against the same shapes).
ITEM_ID = "[0-9a-f]{16}"  # 64 random bits, hex
ROOM_ID = "[A-Za-z0-9_-]{22}"  # 128 random bits, base64url
TOPIC = "[a-z0-9][a-z0-9-]{1,31}"

POST = KeyFormat("post:{post}", post=ITEM_ID)  # hash: the post record (boards.records)
POST_COMMENTS = KeyFormat("post:{post}:comments", post=ITEM_ID)  # zset: live comment ids
POST_HIDDEN_COMMENTS = KeyFormat("post:{post}:hidden", post=ITEM_ID)  # set: hidden ids
COMMENT = KeyFormat("comment:{comment}", comment=ITEM_ID)  # hash: the comment record
FEED_HOME = KeyFormat("feed:home")  # zset: topic post ids by score
FEED_TOPIC = KeyFormat("feed:topic:{topic}", topic=TOPIC)
FEED_ROOM = KeyFormat("feed:room:{room}", room=ROOM_ID)
ROOM = KeyFormat("room:{room}", room=ROOM_ID)  # string: the room's key check and kdf
SEQ = KeyFormat("boards:seq")  # the per-ms sequence of scores
TRENDING = KeyFormat("trending")  # zset: topic -> forward-decayed weight
TRENDING_EPOCH = KeyFormat("trending:epoch")
TRENDING_THROTTLE = KeyFormat("trending:throttle:{topic}", topic=f"{TOPIC}|-")
MODLOG = KeyFormat("modlog")  # zset: the public moderation log (moderation.log)

# The format strings, for callers that name them.
SEQ_KEY = SEQ.template
TRENDING_KEY = TRENDING.template
TRENDING_EPOCH_KEY = TRENDING_EPOCH.template


def post_key(post_id: str) -> str:
    return POST(post=post_id)


def post_comments_key(post_id: str) -> str:
    return POST_COMMENTS(post=post_id)


def post_hidden_comments_key(post_id: str) -> str:
    return POST_HIDDEN_COMMENTS(post=post_id)


def comment_key(comment_id: str) -> str:
    return COMMENT(comment=comment_id)


def feed_key(*, topic: str | None = None, room: str | None = None) -> str:
    """The feed of a topic, a room, or (neither) the home feed."""
    if room:
        return FEED_ROOM(room=room)
    if topic:
        return FEED_TOPIC(topic=topic)
    return FEED_HOME()


def room_key(room: str) -> str:
    return ROOM(room=room)


def modlog_key() -> str:
    return MODLOG()


def trending_throttle_key(topic: str) -> str:
    return TRENDING_THROTTLE(topic=topic)


# Prefixes handed to Lua, which builds per-id keys while it walks a set.
POST_PREFIX = POST(post="")
COMMENT_PREFIX = COMMENT(comment="")
COMMENTS_SUFFIX = POST_COMMENTS(post="").removeprefix(POST_PREFIX)


def score_floor(now: int, ttl: int) -> str:
    """The lowest score still alive at ``now`` (whole seconds).

    Scores are created-ms * 1000 + a per-ms sequence (see post_create.lua), and
    an item lives while created_at (whole seconds) + ttl > now, so anything
    created before second ``now - ttl + 1`` has expired.
    """
    return str((now - ttl + 1) * 1_000_000)
