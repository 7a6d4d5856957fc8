"""The public moderation log: per UTC day, how many posts and comments were
hidden by community flags, restored or removed by operators, and the public
reasons given. Entries are written by the boards scripts that do the action
(boards/modlog.lua) and expire with the content they speak of; no entry holds
an item id, an address, a session or a name."""

from __future__ import annotations

import secrets
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

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


def log_days(*, now: int | None = None) -> list[dict[str, Any]]:
    """The live log grouped by UTC day, newest day first: counts per action and
    kind, and each public reason with how often it was given."""
    now = int(time.time()) if now is None else now
    days: dict[str, dict[str, Any]] = {}
    for raw in redis_utils.client().zrangebyscore(keys.modlog_key(), now, "+inf"):
        day, action, kind, _nonce, reason = raw.decode().split("|", 4)
        row = days.setdefault(day, {"day": day, "counts": {}, "reasons": {}})
        name = f"{kind}s_{action}"
        row["counts"][name] = row["counts"].get(name, 0) + 1
        if reason:
            said = (action, kind, reason)
            row["reasons"][said] = row["reasons"].get(said, 0) + 1
    result = []
    for day in sorted(days, reverse=True):
        row = days[day]
        counts = {f"{k}s_{a}": row["counts"].get(f"{k}s_{a}", 0) for a in ACTIONS for k in KINDS}
        reasons = [
            {"action": action, "kind": kind, "reason": reason, "count": count}
            for (action, kind, reason), count in sorted(row["reasons"].items())
        ]
        result.append({"day": day, **counts, "reasons": reasons})
    return result
