"""Moderation's Redis repository: community flags, their quotas and the reports
log (key formats in moderation.keys)."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings

from boards import keys as board_keys
from moderation import keys, records
from moderation.records import Report
from nullboard import redis_utils

# Views and the client config import them from here.
KINDS, REASONS, REASON_LABELS = records.KINDS, records.REASONS, records.REASON_LABELS

logger = logging.getLogger(__name__)

_flag = redis_utils.lua(__file__, "flag.lua")
_flag_quota = redis_utils.lua(__file__, "flag_quota.lua")


def item_key(kind: str, item_id: str) -> str:
    if kind == "post":
        return board_keys.post_key(item_id)
    return board_keys.comment_key(item_id)


def flag_key(kind: str, item_id: str) -> str:
    return keys.FLAG(kind=kind, tag=board_keys.tag_of(item_id), item=item_id)


def voters_key(kind: str, item_id: str) -> str:
    return keys.FLAG_VOTERS(kind=kind, tag=board_keys.tag_of(item_id), item=item_id)


def reports_key() -> str:
    return keys.REPORTS()


def quota_key(network: str) -> str:
    """``network`` is already an HMAC (antispam.ratelimit.client_network_key)."""
    return keys.FLAG_QUOTA(network=network)


@dataclass(frozen=True)
class FlagResult:
    found: bool
    counted: bool
    count: int
    threshold: int = 0
    retry_after: int = 0  # seconds until the network may flag again; 0 if it may now

    @property
    def over_quota(self) -> bool:
        return self.retry_after > 0


def _seconds(milliseconds: int) -> int:
    """Whole seconds, rounded up: after Retry-After seconds a flag is accepted."""
    return max(1, -(-int(milliseconds) // 1000))


def _thread_of(kind: str, item_id: str) -> str | None:
    """The post whose comments are the item's audience (a comment's is its post's)."""
    if kind == "post":
        return item_id
    # As bytes: the client does not decode replies.
    post_id = cast(bytes | None, redis_utils.client().hget(item_key(kind, item_id), "post"))
    return post_id.decode() if post_id is not None else None


def flag_record(*, kind: str, item_id: str, voter: str, network: str, reason: str) -> FlagResult:
    """Count one network's flag on an item once, within the network's quota; the
    flag keys expire with the item. The threshold comes from the thread's size.

    Three steps, each in one slot: (1) reserve a flag of the network's quota; (2)
    count the flag in the item's slot, which decides as one script always did
    (no item, already flagged, over quota, counted); (3) list the item in the
    reports log. A reservation the item step did not use is given back (SREM of
    its own token: idempotent); a crash before that leaves it to expire with
    the window. A crash before step 3 leaves a counted flag off the queue until
    the item's next flag lists it (ZADD: idempotent); readers prune entries
    whose flags are gone, so the log is written after the flags, not before.
    """
    thread = _thread_of(kind, item_id)
    if thread is None:
        return FlagResult(found=False, counted=False, count=0)
    token = secrets.token_hex(8)
    quota = quota_key(network)
    reserved, retry_ms = _flag_quota(
        [quota],
        [
            redis_utils.lua_table(
                {
                    "token": token,
                    "quota": settings.FLAG_QUOTA_PER_NETWORK,
                    "window_ms": settings.FLAG_QUOTA_WINDOW_SECONDS * 1000,
                }
            )
        ],
    )
    now = int(time.time())
    counted = False
    try:
        status, count, threshold, retry_ms = _flag(
            [
                item_key(kind, item_id),
                voters_key(kind, item_id),
                flag_key(kind, item_id),
                board_keys.post_comments_key(thread),
            ],
            [
                redis_utils.lua_table(
                    {
                        "voter": voter,
                        "reason": reason,
                        "now": now,
                        "threshold": settings.FLAG_HIDE_THRESHOLD,
                        "per_extra": settings.FLAG_COMMENTS_PER_EXTRA_FLAG,
                        "threshold_max": settings.FLAG_HIDE_THRESHOLD_MAX,
                        "reserved": bool(reserved),
                        "retry_ms": retry_ms,
                    }
                )
            ],
        )
        counted = status == 1
    finally:
        if reserved and not counted:
            _quota_refund(quota, token)
    if counted:
        _report(kind, item_id, now)
    return FlagResult(
        found=status != -1,
        counted=counted,
        count=int(count),
        threshold=int(threshold),
        retry_after=_seconds(retry_ms) if status == -2 else 0,
    )


def _report(kind: str, item_id: str, now: int) -> None:
    """List a flagged item in the reports log (the moderation queue's index)."""
    pipe = redis_utils.client().pipeline(transaction=True)
    pipe.zadd(reports_key(), {f"{kind}:{item_id}": now})
    pipe.expire(reports_key(), settings.POST_TTL_SECONDS)
    pipe.execute()


def _quota_refund(quota: str, token: str) -> None:
    """Give back a reserved flag the item step did not count (idempotent)."""
    try:
        redis_utils.client().srem(quota, token)
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Flag quota not given back (it frees up with its window)")


def quota_retry_after(network: str) -> int:
    """Seconds until ``network`` may flag again (0: it may now). A read only, so an
    exhausted network is refused before it spends a proof of work."""
    pipe = redis_utils.client().pipeline(transaction=False)
    pipe.scard(quota_key(network))
    pipe.pttl(quota_key(network))
    used, left_ms = pipe.execute()
    if used < settings.FLAG_QUOTA_PER_NETWORK or left_ms <= 0:
        return 0
    return _seconds(left_ms)


def flags_clear(*, kind: str, item_id: str) -> None:
    """Forget every flag on an item (after removal or restore): the flags in the
    item's slot, then the reports log's entry (which readers prune once the
    flags are gone, should a crash come between)."""
    conn = redis_utils.client()
    conn.delete(flag_key(kind, item_id), voters_key(kind, item_id))
    conn.zrem(reports_key(), f"{kind}:{item_id}")


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def reports_list(*, limit: int = 200) -> list[Report]:
    """Flagged items, most recently flagged first; pruned of expired ones."""
    conn = redis_utils.client()
    # Members only (no scores asked), as bytes: the client does not decode replies.
    found = cast(list[bytes], conn.zrevrange(reports_key(), 0, limit - 1))
    members = [m.decode() for m in found]
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
        report = records.report_from(
            kind=kind, item_id=item_id, flags=flags, hidden=hidden is not None
        )
        report.topic, report.room, report.post_id = _text(topic), _text(room), _text(post_id)
        reports.append(report)
    if gone:
        conn.zrem(reports_key(), *gone)
    _fill_comment_places(reports)
    return reports


def _fill_comment_places(reports: list[Report]) -> None:
    """A comment's topic or room is its post's."""
    comments = [(r, r.post_id) for r in reports if r.kind == "comment" and r.post_id]
    if not comments:
        return
    pipe = redis_utils.client().pipeline(transaction=False)
    for _, post_id in comments:
        pipe.hmget(board_keys.post_key(post_id), "topic", "room")
    for (report, _), (topic, room) in zip(comments, pipe.execute(), strict=True):
        report.topic, report.room = _text(topic), _text(room)
