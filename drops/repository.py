"""The drops app's Redis repository: every read and write of drops, receipts,
tickets, quotas and the media index (key formats in drops.keys), Lua for the
steps that must be atomic.

Nothing here sees a plaintext or an access key: callers pass sealed bytes and
HMACs only (see drops.sealing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from drops import keys as k
from drops import records
from nullboard import redis_utils

# The receipt outlives its drop a little, so the creator can see the last view.
RECEIPT_GRACE_SECONDS = 600
# Index and counters live past the longest drop; the sweeper refreshes them.
INDEX_TTL_SECONDS = 7 * 86400

_reserve = redis_utils.lua(__file__, "drop_reserve.lua")
_save = redis_utils.lua(__file__, "drop_save.lua")
_open = redis_utils.lua(__file__, "drop_open.lua")
_burn = redis_utils.lua(__file__, "drop_burn.lua")
_unlock = redis_utils.lua(__file__, "sweep_unlock.lua")


@dataclass(frozen=True)
class Opened:
    """What the open script returned for an accepted verifier."""

    views_left: int
    wrapped: bytes
    kind: str
    ciphertext: bytes  # text drops; a voice drop's is in its file
    mime: str
    burned: bool
    expires_at: int
    salt: bytes
    iterations: int
    sealed_by: str


@dataclass(frozen=True)
class Limits:
    """Wrong keys allowed per window: per (client, drop), per drop, per client."""

    pair: int
    drop: int
    client: int
    window: int


@dataclass(frozen=True)
class Quota:
    """Caps for one save: the media cap, and one client network's share."""

    network: str
    drops: int
    media_bytes: int
    media_cap: int


def drop_reserve(*, drop_id: str, ttl: int) -> bool:
    """Claim a new id before its files exist; False if the id is taken."""
    keys = [k.DROP(id=drop_id), k.RECEIPT(id=drop_id), k.EXPIRY()]
    return int(_reserve(keys, [drop_id, ttl])) == 1


def drop_save(
    *,
    drop_id: str,
    fields: dict[str, bytes | str | int],
    receipt: records.ReceiptHash,
    ttl: int,
    expires_at: int,
    now: int,
    file_bytes: int,
    voice_bytes: int,
    quota: Quota,
) -> int:
    """Store a reserved drop, its receipt, expiry entry, media count and quota at once.

    Returns 1 stored, 0 reservation lost, -1 network's live drops used up, -2 network's
    media share used up, -3 media cap reached.
    """
    keys = [
        k.DROP(id=drop_id),
        k.RECEIPT(id=drop_id),
        k.EXPIRY(),
        k.MEDIA_BYTES(),
        k.QUOTA(network=quota.network),
        k.QUOTA_BYTES(network=quota.network),
    ]
    table = {
        "id": drop_id,
        "now": now,
        "ttl": ttl,
        "expires_at": expires_at,
        "receipt_ttl": ttl + RECEIPT_GRACE_SECONDS,
        "index_ttl": max(INDEX_TTL_SECONDS, ttl + RECEIPT_GRACE_SECONDS),
        "file_bytes": file_bytes,
        "voice_bytes": voice_bytes,
        "media_cap": quota.media_cap,
        "network_drops": quota.drops,
        "network_bytes": quota.media_bytes,
        "fields": len(fields),
    }
    args: list[bytes | str | int] = [redis_utils.lua_table(table)]
    # A TypedDict is no dict[str, ...] to mypy; ReceiptHash's values are all str or int.
    receipt_fields = cast(dict[str, bytes | str | int], dict(receipt))
    for pairs in (fields, receipt_fields):
        for name, value in pairs.items():
            args += [name, value]
    return int(_save(keys, args))


class OpenCall:
    """The open script's keys and arguments for one attempt, and its answer read."""

    def __init__(
        self,
        *,
        drop_id: str,
        verifier_hash: str,
        client: str,
        now: int,
        limits: Limits,
        ticket_hash: str,
        ticket_grace: int,
        ticket_mode: str,
        ticket_key: bytes,
    ) -> None:
        self.keys = [
            k.DROP(id=drop_id),
            k.RECEIPT(id=drop_id),
            k.EXPIRY(),
            k.FAILS_PAIR(id=drop_id, client=client),
            k.FAILS_DROP(id=drop_id),
            k.FAILS_CLIENT(client=client),
            k.TICKET(hash=ticket_hash),
        ]
        table = {
            "verifier": verifier_hash,
            "now": now,
            "id": drop_id,
            "ticket_ttl": ticket_grace,
            "limits": [limits.pair, limits.drop, limits.client],
            "window": limits.window,
            "ticket_mode": ticket_mode,
            "quota_prefix": k.QUOTA_PREFIX,
            "quota_bytes_suffix": k.QUOTA_BYTES_SUFFIX,
        }
        self.args: list[str | bytes] = [redis_utils.lua_table(table), ticket_key]

    @staticmethod
    def answer(result: list[bytes]) -> Opened | tuple[int, int]:
        """An accepted verifier's view, or the refusal: (0, 0) gone, (-1, 0) wrong,
        (-2, 0) used, (-3, seconds to wait) throttled."""
        if int(result[0]) != 1:
            return int(result[0]), int(result[1]) if len(result) > 1 else 0
        _, left, wrapped, kind, ciphertext, mime, burned, expires_at, salt, it, by = result
        return Opened(
            views_left=max(int(left), 0),
            wrapped=wrapped,
            kind=kind.decode(),
            ciphertext=ciphertext,
            mime=mime.decode(),
            burned=bool(int(burned)),
            expires_at=int(expires_at),
            salt=salt,
            iterations=int(it),
            sealed_by=by.decode(),
        )


def drop_open(call: OpenCall) -> Opened | tuple[int, int]:
    """Run the open script (see :meth:`OpenCall.answer` for what comes back)."""
    return OpenCall.answer(_open(call.keys, call.args))


async def adrop_open(call: OpenCall) -> Opened | tuple[int, int]:
    """:func:`drop_open` on the event loop's client."""
    return OpenCall.answer(await _open.acall(call.keys, call.args))


def drop_burn(*, drop_id: str, token_hash: str, now: int) -> int:
    """Burn now if the receipt matches: 1 burned, 0 already gone, -1 wrong receipt."""
    keys = [k.DROP(id=drop_id), k.RECEIPT(id=drop_id)]
    table = {
        "token": token_hash,
        "now": now,
        "id": drop_id,
        "quota_prefix": k.QUOTA_PREFIX,
        "quota_bytes_suffix": k.QUOTA_BYTES_SUFFIX,
    }
    return int(_burn(keys, [redis_utils.lua_table(table)]))


def drop_fields(*, drop_id: str, names: list[str]) -> dict[str, bytes | None] | None:
    """Some fields of a live drop, or None when it does not exist."""
    # As bytes: the client does not decode replies.
    values = cast(list[bytes | None], redis_utils.client().hmget(k.DROP(id=drop_id), names))
    if all(value is None for value in values):
        return None
    return dict(zip(names, values, strict=True))


async def adrop_fields(*, drop_id: str, names: list[str]) -> dict[str, bytes | None] | None:
    """:func:`drop_fields` on the event loop's client."""
    values = cast(list[bytes | None], await redis_utils.aclient().hmget(k.DROP(id=drop_id), names))
    if all(value is None for value in values):
        return None
    return dict(zip(names, values, strict=True))


def receipt_fields(*, drop_id: str) -> dict[str, str]:
    """The receipt hash, decoded (empty when gone)."""
    # As bytes: the client does not decode replies.
    raw = cast(dict[bytes, bytes], redis_utils.client().hgetall(k.RECEIPT(id=drop_id)))
    return {name.decode(): value.decode() for name, value in raw.items()}


def ticket_read(*, ticket_hash: str) -> dict[str, bytes]:
    """A ticket's fields (empty when spent or expired); reading does not spend it."""
    # As bytes: the client does not decode replies.
    raw = cast(dict[bytes, bytes], redis_utils.client().hgetall(k.TICKET(hash=ticket_hash)))
    return {name.decode(): value for name, value in raw.items()}


def ticket_spend(*, ticket_hash: str) -> bool:
    """Spend a ticket once its answer is ready; False if another request spent it."""
    return bool(redis_utils.client().delete(k.TICKET(hash=ticket_hash)))


def expiry_forget(*, drop_ids: list[str]) -> None:
    """Drop ids whose files are gone leave the index."""
    if drop_ids:
        redis_utils.client().zrem(k.EXPIRY(), *drop_ids)


def expiry_due(*, now: float, limit: int = 1000) -> list[str]:
    """Drop ids whose files may go now, oldest first."""
    # Members only (no scores asked), as bytes: the client does not decode replies.
    found = cast(
        list[bytes],
        redis_utils.client().zrangebyscore(k.EXPIRY(), "-inf", now, start=0, num=limit),
    )
    return [item.decode() for item in found]


def expiry_pending(*, drop_ids: list[str]) -> set[str]:
    """Which of these ids still wait in the index (their files are spoken for)."""
    if not drop_ids:
        return set()
    scores = redis_utils.client().zmscore(k.EXPIRY(), drop_ids)
    return {drop_id for drop_id, score in zip(drop_ids, scores, strict=True) if score}


def drops_live(*, drop_ids: list[str], now: float) -> set[str]:
    """Which of these drops are still live at ``now``, in one round trip."""
    if not drop_ids:
        return set()
    with redis_utils.client().pipeline(transaction=False) as pipe:
        for drop_id in drop_ids:
            pipe.hget(k.DROP(id=drop_id), "exp")
        found = pipe.execute()
    return {i for i, exp in zip(drop_ids, found, strict=True) if exp and int(exp) > now}


def media_bytes() -> int:
    """Bytes of media on disk, as last counted."""
    return int(redis_utils.client().get(k.MEDIA_BYTES()) or 0)


# Freeing bytes must work when Redis is full (a burned drop's files are deleted then
# too): a script flagged allow-oom may write past maxmemory. The embedded store has
# no memory limit and no script flags.
_MEDIA_SUB = "return redis.call('DECRBY', KEYS[1], ARGV[1])"
_media_sub_oom = redis_utils.LuaScript("#!lua flags=allow-oom\n" + _MEDIA_SUB)
_media_sub_plain = redis_utils.LuaScript(_MEDIA_SUB)


def media_bytes_sub(*, amount: int) -> None:
    """Take ``amount`` freed bytes off the media count, even at the memory edge."""
    script = _media_sub_plain if redis_utils.is_embedded() else _media_sub_oom
    script([k.MEDIA_BYTES()], [amount])


def media_bytes_add(*, amount: int) -> None:
    """Adjust the media byte count by ``amount`` (negative on delete)."""
    with redis_utils.client().pipeline(transaction=True) as pipe:
        pipe.incrby(k.MEDIA_BYTES(), amount)
        pipe.expire(k.MEDIA_BYTES(), INDEX_TTL_SECONDS)
        pipe.execute()


def media_bytes_set(*, amount: int) -> None:
    """Set the media byte count (the sweeper's fresh tally)."""
    redis_utils.client().set(k.MEDIA_BYTES(), amount, ex=INDEX_TTL_SECONDS)


def sweep_lock(*, token: str, ttl: int) -> bool:
    """Take the sweep lock for ``ttl`` seconds; False if another holds it."""
    return bool(redis_utils.client().set(k.SWEEP_LOCK(), token, nx=True, ex=ttl))


def sweep_unlock(*, token: str) -> None:
    """Release the sweep lock if we still hold it."""
    _unlock([k.SWEEP_LOCK()], [token])
