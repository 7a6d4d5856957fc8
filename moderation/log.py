"""The public moderation log: per UTC day, how many posts and comments were
hidden by community flags, restored or removed by operators, and the public
reasons given. Entries are written by the boards scripts that do the action
(boards/modlog.lua) and expire with the content they speak of; no entry holds
an item id, an address, a session or a name."""

from __future__ import annotations

import secrets
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TypedDict, cast

from boards import keys
from nullboard import redis_utils

ACTIONS = ("hidden", "restored", "removed")
KINDS = ("post", "comment")
REASON_MAX_CHARS = 140  # a short public sentence, not a case file


class ReasonError(ValueError):
    """A public reason that is too long or holds control characters."""


def reason_clean(text: str) -> str:
    """One line of at most REASON_MAX_CHARS printable characters (spaces collapsed)."""
    value = " ".join(text.split())
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ReasonError("The reason may hold no control or invisible characters.")
    if len(value) > REASON_MAX_CHARS:
        raise ReasonError(
            f"The reason is a short public text: at most {REASON_MAX_CHARS} characters."
        )
    return value


def modlog_entry(*, action: str, kind: str, reason: str, now: int) -> str:
    """One log entry: its UTC day, what happened to what kind, and the reason.

    The random nonce keeps two identical entries apart in the sorted set; it
    names nothing.
    """
    if action not in ACTIONS or kind not in KINDS:
        raise ValueError("unknown moderation action or kind")
    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    return f"{day}|{action}|{kind}|{secrets.token_hex(4)}|{reason_clean(reason)}"


class LogReason(TypedDict):
    """A public reason given on a day, and how often."""

    action: str
    kind: str
    reason: str
    count: int


class LogDay(TypedDict):
    """One UTC day of the public log: counts per action and kind, and the reasons."""

    day: str
    posts_hidden: int
    comments_hidden: int
    posts_restored: int
    comments_restored: int
    posts_removed: int
    comments_removed: int
    reasons: list[LogReason]


def log_days(*, now: int | None = None) -> list[LogDay]:
    """The live log grouped by UTC day, newest day first: counts per action and
    kind, and each public reason with how often it was given."""
    now = int(time.time()) if now is None else now
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    # Members only (no scores asked), as bytes: the client does not decode replies.
    entries = cast(list[bytes], redis_utils.client().zrangebyscore(keys.modlog_key(), now, "+inf"))
    for raw in entries:
        day, action, kind, _nonce, reason = raw.decode().split("|", 4)
        counts[day][f"{kind}s_{action}"] += 1
        if reason:
            reasons[day][(action, kind, reason)] += 1
    return [
        LogDay(
            day=day,
            posts_hidden=counts[day]["posts_hidden"],
            comments_hidden=counts[day]["comments_hidden"],
            posts_restored=counts[day]["posts_restored"],
            comments_restored=counts[day]["comments_restored"],
            posts_removed=counts[day]["posts_removed"],
            comments_removed=counts[day]["comments_removed"],
            reasons=[
                LogReason(action=action, kind=kind, reason=reason, count=count)
                for (action, kind, reason), count in sorted(reasons[day].items())
            ],
        )
        for day in sorted(counts, reverse=True)
    ]
