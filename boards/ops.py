"""Boards' part in site-wide operations (nullboard.sitewide): what stats counts."""

from __future__ import annotations

import redis

from boards import keys, records

COUNTED = {"posts": keys.POST, "comments": keys.COMMENT, "rooms": keys.ROOM}


def counts(*, found: dict[str, list[bytes]], conn: redis.Redis) -> dict[str, int]:
    """Posts and comments that moderation hides."""
    pipe = conn.pipeline(transaction=False)
    for name in (*found["posts"], *found["comments"]):
        pipe.hexists(name, records.HIDDEN)
    return {"hidden": sum(1 for hidden in pipe.execute() if hidden)}
