"""Redis key formats for boards, named once (format with validated parts only)."""

from __future__ import annotations

from nullboard import redis_utils

POST_KEY = "post:{post}"
POST_COMMENTS_KEY = "post:{post}:comments"  # zset of live comment ids by score
POST_HIDDEN_COMMENTS_KEY = "post:{post}:hidden"  # set of hidden comment ids
COMMENT_KEY = "comment:{comment}"
FEED_HOME_KEY = "feed:home"
FEED_TOPIC_KEY = "feed:topic:{topic}"
FEED_ROOM_KEY = "feed:room:{room}"
ROOM_KEY = "room:{room}"
SEQ_KEY = "boards:seq"
TRENDING_KEY = "trending"
TRENDING_EPOCH_KEY = "trending:epoch"
TRENDING_THROTTLE_KEY = "trending:throttle:{topic}"
MODLOG_KEY = "modlog"  # zset: the public moderation log (moderation.log)


def post_key(post_id: str) -> str:
    return redis_utils.key(POST_KEY.format(post=post_id))


def post_comments_key(post_id: str) -> str:
    return redis_utils.key(POST_COMMENTS_KEY.format(post=post_id))


def post_hidden_comments_key(post_id: str) -> str:
    return redis_utils.key(POST_HIDDEN_COMMENTS_KEY.format(post=post_id))


def comment_key(comment_id: str) -> str:
    return redis_utils.key(COMMENT_KEY.format(comment=comment_id))


def feed_key(*, topic: str | None = None, room: str | None = None) -> str:
    """The feed of a topic, a room, or (neither) the home feed."""
    if room:
        return redis_utils.key(FEED_ROOM_KEY.format(room=room))
    if topic:
        return redis_utils.key(FEED_TOPIC_KEY.format(topic=topic))
    return redis_utils.key(FEED_HOME_KEY)


def room_key(room: str) -> str:
    return redis_utils.key(ROOM_KEY.format(room=room))


def modlog_key() -> str:
    return redis_utils.key(MODLOG_KEY)


def trending_throttle_key(topic: str) -> str:
    return redis_utils.key(TRENDING_THROTTLE_KEY.format(topic=topic))


# Prefixes handed to Lua, which builds per-id keys while it walks a set.
POST_PREFIX = redis_utils.key("post:")
COMMENT_PREFIX = redis_utils.key("comment:")
COMMENTS_SUFFIX = ":comments"


def score_floor(now: int, ttl: int) -> str:
    """The lowest score still alive at ``now`` (whole seconds).

    Scores are created-ms * 1000 + a per-ms sequence (see post_create.lua), and
    an item lives while created_at (whole seconds) + ttl > now, so anything
    created before second ``now - ttl + 1`` has expired.
    """
    return str((now - ttl + 1) * 1_000_000)
