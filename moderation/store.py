"""Moderation's Redis I/O: community flags and the reports log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings

from boards import keys as board_keys
from nullboard import store

FLAG_KEY = "flag:{kind}:{item}"  # hash: count, reason:<r>, first_at, last_at
FLAG_VOTERS_KEY = "flag:{kind}:{item}:voters"  # set of session ids
REPORTS_KEY = "reports"  # zset "kind:id" -> last flag time

KINDS = ("post", "comment")
REASONS = ("spam", "harassment", "illegal", "doxxing", "malware", "other")

_flag = store.lua(__file__, "flag.lua")


def item_key(kind: str, item_id: str) -> str:
    if kind == "post":
        return board_keys.post_key(item_id)
    return board_keys.comment_key(item_id)


def flag_key(kind: str, item_id: str) -> str:
    return store.key(FLAG_KEY.format(kind=kind, item=item_id))


def voters_key(kind: str, item_id: str) -> str:
    return store.key(FLAG_VOTERS_KEY.format(kind=kind, item=item_id))


def reports_key() -> str:
    return store.key(REPORTS_KEY)


@dataclass(frozen=True)
class FlagResult:
    found: bool
    counted: bool
    count: int


def flag_record(*, kind: str, item_id: str, voter: str, reason: str) -> FlagResult:
    """Count one visitor's flag once; the flag keys expire with the item."""
    status, count = _flag(
        [
            item_key(kind, item_id),
            voters_key(kind, item_id),
            flag_key(kind, item_id),
            reports_key(),
        ],
        [voter, reason, int(time.time()), f"{kind}:{item_id}", settings.POST_TTL_SECONDS],
    )
    return FlagResult(found=status != -1, counted=status == 1, count=int(count))


def flags_clear(*, kind: str, item_id: str) -> None:
    """Forget every flag on an item (after removal or restore)."""
    pipe = store.client().pipeline(transaction=True)
    pipe.delete(flag_key(kind, item_id), voters_key(kind, item_id))
    pipe.zrem(reports_key(), f"{kind}:{item_id}")
    pipe.execute()


@dataclass
class Report:
    kind: str
    item_id: str
    count: int
    reasons: dict[str, int]
    first_at: int
    last_at: int
    hidden: bool
    topic: str | None = None
    room: str | None = None
    post_id: str | None = None
    extra: dict = field(default_factory=dict)


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def reports_list(*, limit: int = 200) -> list[Report]:
    """Flagged items, most recently flagged first; pruned of expired ones."""
    conn = store.client()
    members = [m.decode() for m in conn.zrevrange(reports_key(), 0, limit - 1)]
    pipe = conn.pipeline(transaction=False)
    for member in members:
        kind, item_id = member.split(":", 1)
        pipe.hgetall(flag_key(kind, item_id))
        pipe.hmget(item_key(kind, item_id), "hidden", "topic", "room", "post")
    rows = pipe.execute()
    reports, gone = [], []
    for index, member in enumerate(members):
        flags, (hidden, topic, room, post_id) = rows[2 * index], rows[2 * index + 1]
        kind, item_id = member.split(":", 1)
        if not flags:
            gone.append(member)
            continue
        decoded = {k.decode(): v.decode() for k, v in flags.items()}
        reasons = {
            k.removeprefix("reason:"): int(v) for k, v in decoded.items() if k.startswith("reason:")
        }
        reports.append(
            Report(
                kind=kind,
                item_id=item_id,
                count=int(decoded.get("count", 0)),
                reasons=reasons,
                first_at=int(decoded.get("first_at", 0)),
                last_at=int(decoded.get("last_at", 0)),
                hidden=hidden is not None,
                topic=_text(topic),
                room=_text(room),
                post_id=_text(post_id),
            )
        )
    if gone:
        conn.zrem(reports_key(), *gone)
    _fill_comment_places(reports)
    return reports


def _fill_comment_places(reports: list[Report]) -> None:
    """A comment's topic or room is its post's."""
    comments = [r for r in reports if r.kind == "comment" and r.post_id]
    if not comments:
        return
    pipe = store.client().pipeline(transaction=False)
    for report in comments:
        pipe.hmget(board_keys.post_key(report.post_id), "topic", "room")
    for report, (topic, room) in zip(comments, pipe.execute(), strict=True):
        report.topic, report.room = _text(topic), _text(room)
