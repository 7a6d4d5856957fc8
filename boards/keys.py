"""Redis key formats of boards and the patterns that match them, declared once
(format with validated parts only; stats and purge match keys with these).

Redis Cluster (docs/scaling.md): the [bracketed] part of a format is its hash tag,
and keys with the same tag share one slot, so one script may touch them together.

- A topic's feed and everything under it share the tag ``feed_tag(topic=...)``
  (4 hex digits): the feed zset, its posts, their comments and flags. A post id
  starts with its feed's tag (:func:`new_item_id`), and so does a comment id (its
  post's tag), so every per-item key is known from the id alone.
- A private room the same way: the room key, its feed, posts, comments, flags.
- Global keys, each group in a slot of its own: the home feed and its sequence,
  trending, the moderation log. What writes both an item and a global key does it
  in single-slot steps (boards.services says the order and why it is safe).
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from nullboard.redis_utils import KeyFormat, short_tag

# What each part of a key may be (boards.validation checks input against the same shapes).
ITEM_ID = "[0-9a-f]{16}"  # its feed's 4-hex tag + 48 random bits, hex
TAG = "[0-9a-f]{4}"  # the slot tag: an item id's first 4 hex digits
ROOM_ID = "[A-Za-z0-9_-]{22}"  # 128 random bits, base64url
TOPIC = "[a-z0-9][a-z0-9-]{1,31}"

POST = KeyFormat("post:[{tag}]:{post}", tag=TAG, post=ITEM_ID)  # hash: boards.records
POST_COMMENTS = KeyFormat("post:[{tag}]:{post}:comments", tag=TAG, post=ITEM_ID)  # zset
POST_HIDDEN_COMMENTS = KeyFormat("post:[{tag}]:{post}:hidden", tag=TAG, post=ITEM_ID)  # set
COMMENT = KeyFormat("comment:[{tag}]:{comment}", tag=TAG, comment=ITEM_ID)  # hash
FEED_TOPIC = KeyFormat("feed:topic:[{tag}]:{topic}", tag=TAG, topic=TOPIC)  # zset: id -> score
FEED_ROOM = KeyFormat("feed:room:[{tag}]:{room}", tag=TAG, room=ROOM_ID)
ROOM = KeyFormat("room:[{tag}]:{room}", tag=TAG, room=ROOM_ID)  # string: key check and kdf
SEQ = KeyFormat("boards:seq:[{tag}]", tag=TAG)  # per-ms sequence of a room's or thread's scores
FEED_HOME = KeyFormat("feed:[home]")  # zset: topic post ids by score
HOME_SEQ = KeyFormat("feed:[home]:seq")  # per-ms sequence of topic posts' scores
TRENDING = KeyFormat("[trending]")  # zset: topic -> forward-decayed weight
TRENDING_EPOCH = KeyFormat("[trending]:epoch")
TRENDING_THROTTLE = KeyFormat("[trending]:throttle:{topic}", topic=TOPIC)
MODLOG = KeyFormat("modlog")  # zset: the public moderation log (moderation.log)


def feed_tag(*, topic: str | None = None, room: str | None = None) -> str:
    """The slot tag of a topic's or a room's feed (and of its items)."""
    if room:
        return _tag("room:" + room)
    if topic:
        return _tag("topic:" + topic)
    raise ValueError("a feed tag needs a topic or a room")


_tag = lru_cache(maxsize=4096)(short_tag)  # a feed read names its feed every time


def new_item_id(tag: str) -> str:
    """A new post or comment id in the slot of ``tag``: the tag, then 48 random
    bits (ids stay unguessable enough to be public: they are listed in feeds)."""
    return tag + secrets.token_hex(6)


def tag_of(item_id: str) -> str:
    """The slot tag an item id starts with."""
    return item_id[:4]


def post_key(post_id: str) -> str:
    return POST(tag=tag_of(post_id), post=post_id)


def post_comments_key(post_id: str) -> str:
    return POST_COMMENTS(tag=tag_of(post_id), post=post_id)


def post_hidden_comments_key(post_id: str) -> str:
    return POST_HIDDEN_COMMENTS(tag=tag_of(post_id), post=post_id)


def comment_key(comment_id: str) -> str:
    return COMMENT(tag=tag_of(comment_id), comment=comment_id)


def seq_key(item_id: str) -> str:
    """The score sequence of an item's slot (room posts, comments)."""
    return SEQ(tag=tag_of(item_id))


def feed_key(*, topic: str | None = None, room: str | None = None) -> str:
    """The feed of a topic, a room, or (neither) the home feed."""
    if room:
        return FEED_ROOM(tag=feed_tag(room=room), room=room)
    if topic:
        return FEED_TOPIC(tag=feed_tag(topic=topic), topic=topic)
    return FEED_HOME()


def room_key(room: str) -> str:
    return ROOM(tag=feed_tag(room=room), room=room)


def modlog_key() -> str:
    return MODLOG()


def trending_throttle_key(topic: str) -> str:
    return TRENDING_THROTTLE(topic=topic)


def lua_parts(key_format: KeyFormat) -> list[str]:
    """A per-item format as the pieces a Lua script joins around an id:
    ``parts[1] .. tag .. parts[2] .. id .. parts[3]`` (see item_key.lua)."""
    parts = key_format(tag="\0", **{_item_part(key_format): "\0"}).split("\0")
    if len(parts) != 3:
        raise ValueError(f"{key_format!r} is not a per-item format")
    return parts


def _item_part(key_format: KeyFormat) -> str:
    return "post" if "{post}" in key_format.template else "comment"


# Handed to Lua, which builds per-id keys while it walks a feed or a list.
POST_PARTS = lua_parts(POST)
COMMENTS_PARTS = lua_parts(POST_COMMENTS)
COMMENT_PARTS = lua_parts(COMMENT)


def score_floor(now: int, ttl: int) -> str:
    """The lowest score still alive at ``now`` (whole seconds).

    Scores are created-ms * 1000 + a per-ms sequence (see post_create.lua), and
    an item lives while created_at (whole seconds) + ttl > now, so anything
    created before second ``now - ttl + 1`` has expired.
    """
    return str((now - ttl + 1) * 1_000_000)
