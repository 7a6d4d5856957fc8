"""All of the drops app's Redis I/O: key formats, writes in one pipeline, Lua.

Nothing here sees a plaintext or an access key: callers pass sealed bytes and
HMACs only (see drops.sealing).
"""

from __future__ import annotations

from dataclasses import dataclass

from nullboard import redis_utils

DROP_KEY = "drop:{id}"  # hash: sealed drop, key HMACs, wrapped data keys, used marks
RECEIPT_KEY = "drop:{id}:receipt"  # hash: receipt token HMAC, used times, burn time
FAILS_DROP_KEY = "drop:{id}:fails"  # wrong keys tried on one drop, by anyone
FAILS_PAIR_KEY = "drop:{id}:fails:{client}"  # wrong keys tried by one client on one drop
FAILS_CLIENT_KEY = "drops:fails:{client}"  # wrong keys tried by one client (an HMAC)
QUOTA_KEY = "drops:quota:{network}"  # zset: one client network's live drops -> expiry
QUOTA_BYTES_KEY = "drops:quota:{network}:bytes"  # hash: their voice bytes
TICKET_KEY = "drops:ticket:{hash}"  # hash: one single-use audio stream
EXPIRY_KEY = "drops:expiry"  # zset: drop id -> when its files may go
MEDIA_BYTES_KEY = "drops:media-bytes"  # bytes of media on disk (the sweeper re-counts)
SWEEP_LOCK_KEY = "drops:sweep-lock"

# The receipt outlives its drop a little, so the creator can see the last view.
RECEIPT_GRACE_SECONDS = 600
# Index and counters live past the longest drop; the sweeper refreshes them.
INDEX_TTL_SECONDS = 7 * 86400

_reserve = redis_utils.lua(__file__, "drop_reserve.lua")
_save = redis_utils.lua(__file__, "drop_save.lua")
_open = redis_utils.lua(__file__, "drop_open.lua")
_burn = redis_utils.lua(__file__, "drop_burn.lua")
_unlock = redis_utils.lua(__file__, "sweep_unlock.lua")


def _k(fmt: str, **parts: str) -> str:
    return redis_utils.key(fmt.format(**parts))


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
    keys = [_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id), redis_utils.key(EXPIRY_KEY)]
    return int(_reserve(keys, [drop_id, ttl])) == 1


def drop_save(
    *,
    drop_id: str,
    fields: dict[str, bytes | str | int],
    receipt: dict[str, str | int],
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
        _k(DROP_KEY, id=drop_id),
        _k(RECEIPT_KEY, id=drop_id),
        redis_utils.key(EXPIRY_KEY),
        redis_utils.key(MEDIA_BYTES_KEY),
        _k(QUOTA_KEY, network=quota.network),
        _k(QUOTA_BYTES_KEY, network=quota.network),
    ]
    args: list[bytes | str | int] = [
        drop_id,
        now,
        ttl,
        expires_at,
        ttl + RECEIPT_GRACE_SECONDS,
        max(INDEX_TTL_SECONDS, ttl + RECEIPT_GRACE_SECONDS),
        file_bytes,
        voice_bytes,
        quota.media_cap,
        quota.drops,
        quota.media_bytes,
        len(fields),
    ]
    for pairs in (fields, receipt):
        for name, value in pairs.items():
            args += [name, value]
    return int(_save(keys, args))


def drop_open(
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
) -> Opened | tuple[int, int]:
    """Run the open script; a tuple is its refusal: (0, 0) gone, (-1, 0) wrong,
    (-2, 0) used, (-3, seconds to wait) throttled."""
    keys = [
        _k(DROP_KEY, id=drop_id),
        _k(RECEIPT_KEY, id=drop_id),
        redis_utils.key(EXPIRY_KEY),
        _k(FAILS_PAIR_KEY, id=drop_id, client=client),
        _k(FAILS_DROP_KEY, id=drop_id),
        _k(FAILS_CLIENT_KEY, client=client),
        _k(TICKET_KEY, hash=ticket_hash),
    ]
    args = [
        verifier_hash,
        now,
        drop_id,
        ticket_grace,
        limits.pair,
        limits.drop,
        limits.client,
        limits.window,
        ticket_mode,
        ticket_key,
        redis_utils.PREFIX,
    ]
    result = _open(keys, args)
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


def drop_burn(*, drop_id: str, token_hash: str, now: int) -> int:
    """Burn now if the receipt matches: 1 burned, 0 already gone, -1 wrong receipt."""
    keys = [_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id)]
    return int(_burn(keys, [token_hash, now, drop_id, redis_utils.PREFIX]))


def drop_fields(*, drop_id: str, names: list[str]) -> dict[str, bytes | None] | None:
    """Some fields of a live drop, or None when it does not exist."""
    values = redis_utils.client().hmget(_k(DROP_KEY, id=drop_id), names)
    if all(value is None for value in values):
        return None
    return dict(zip(names, values, strict=True))


def receipt_fields(*, drop_id: str) -> dict[str, str]:
    """The receipt hash, decoded (empty when gone)."""
    raw = redis_utils.client().hgetall(_k(RECEIPT_KEY, id=drop_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


def ticket_read(*, ticket_hash: str) -> dict[str, bytes]:
    """A ticket's fields (empty when spent or expired); reading does not spend it."""
    raw = redis_utils.client().hgetall(_k(TICKET_KEY, hash=ticket_hash))
    return {k.decode(): v for k, v in raw.items()}


def ticket_spend(*, ticket_hash: str) -> bool:
    """Spend a ticket once its answer is ready; False if another request spent it."""
    return bool(redis_utils.client().delete(_k(TICKET_KEY, hash=ticket_hash)))


def expiry_forget(*, drop_ids: list[str]) -> None:
    """Drop ids whose files are gone leave the index."""
    if drop_ids:
        redis_utils.client().zrem(redis_utils.key(EXPIRY_KEY), *drop_ids)


def expiry_due(*, now: float, limit: int = 1000) -> list[str]:
    """Drop ids whose files may go now, oldest first."""
    found = redis_utils.client().zrangebyscore(
        redis_utils.key(EXPIRY_KEY), "-inf", now, start=0, num=limit
    )
    return [item.decode() for item in found]


def expiry_pending(*, drop_ids: list[str]) -> set[str]:
    """Which of these ids still wait in the index (their files are spoken for)."""
    if not drop_ids:
        return set()
    scores = redis_utils.client().zmscore(redis_utils.key(EXPIRY_KEY), drop_ids)
    return {drop_id for drop_id, score in zip(drop_ids, scores, strict=True) if score}


def drops_live(*, drop_ids: list[str], now: float) -> set[str]:
    """Which of these drops are still live at ``now``, in one round trip."""
    if not drop_ids:
        return set()
    with redis_utils.client().pipeline(transaction=False) as pipe:
        for drop_id in drop_ids:
            pipe.hget(_k(DROP_KEY, id=drop_id), "exp")
        found = pipe.execute()
    return {i for i, exp in zip(drop_ids, found, strict=True) if exp and int(exp) > now}


def media_bytes() -> int:
    """Bytes of media on disk, as last counted."""
    return int(redis_utils.client().get(redis_utils.key(MEDIA_BYTES_KEY)) or 0)


# Freeing bytes must work when Redis is full (a burned drop's files are deleted then
# too): a script flagged allow-oom may write past maxmemory. The embedded store has
# no memory limit and no script flags.
_MEDIA_SUB = "return redis.call('DECRBY', KEYS[1], ARGV[1])"
_media_sub_oom = redis_utils.LuaScript("#!lua flags=allow-oom\n" + _MEDIA_SUB)
_media_sub_plain = redis_utils.LuaScript(_MEDIA_SUB)


def media_bytes_sub(*, amount: int) -> None:
    """Take ``amount`` freed bytes off the media count, even at the memory edge."""
    script = _media_sub_plain if redis_utils.is_embedded() else _media_sub_oom
    script([redis_utils.key(MEDIA_BYTES_KEY)], [amount])


def media_bytes_add(*, amount: int) -> None:
    """Adjust the media byte count by ``amount`` (negative on delete)."""
    with redis_utils.client().pipeline(transaction=True) as pipe:
        pipe.incrby(redis_utils.key(MEDIA_BYTES_KEY), amount)
        pipe.expire(redis_utils.key(MEDIA_BYTES_KEY), INDEX_TTL_SECONDS)
        pipe.execute()


def media_bytes_set(*, amount: int) -> None:
    """Set the media byte count (the sweeper's fresh tally)."""
    redis_utils.client().set(redis_utils.key(MEDIA_BYTES_KEY), amount, ex=INDEX_TTL_SECONDS)


def sweep_lock(*, token: str, ttl: int) -> bool:
    """Take the sweep lock for ``ttl`` seconds; False if another holds it."""
    return bool(redis_utils.client().set(redis_utils.key(SWEEP_LOCK_KEY), token, nx=True, ex=ttl))


def sweep_unlock(*, token: str) -> None:
    """Release the sweep lock if we still hold it."""
    _unlock([redis_utils.key(SWEEP_LOCK_KEY)], [token])


def keys_of(*, drop_id: str) -> list[str]:
    """Every Redis key one drop uses (for MEMORY USAGE in the benchmark)."""
    return [_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id)]
