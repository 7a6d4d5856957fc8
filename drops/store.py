"""All of the drops app's Redis I/O: key formats, writes in one pipeline, Lua.

Nothing here sees a plaintext or an access key: callers pass sealed bytes and
HMACs only (see drops.sealing).
"""

from __future__ import annotations

from dataclasses import dataclass

from nullboard import store

DROP_KEY = "drop:{id}"  # hash: sealed drop, key HMACs, wrapped data keys, used marks
RECEIPT_KEY = "drop:{id}:receipt"  # hash: receipt token HMAC, used times, burn time
FAILS_DROP_KEY = "drop:{id}:fails"  # wrong keys tried on one drop
FAILS_CLIENT_KEY = "drops:fails:{client}"  # wrong keys tried by one client (an HMAC)
TICKET_KEY = "drops:ticket:{hash}"  # hash: one single-use audio stream
EXPIRY_KEY = "drops:expiry"  # zset: drop id -> when its files may go
MEDIA_BYTES_KEY = "drops:media-bytes"  # bytes of media on disk (the sweeper re-counts)
SWEEP_LOCK_KEY = "drops:sweep-lock"

# The receipt outlives its drop a little, so the creator can see the last view.
RECEIPT_GRACE_SECONDS = 600
# Index and counters live past the longest drop; the sweeper refreshes them.
INDEX_TTL_SECONDS = 7 * 86400

_open = store.lua(__file__, "drop_open.lua")
_burn = store.lua(__file__, "drop_burn.lua")
_unlock = store.lua(__file__, "sweep_unlock.lua")


def _k(fmt: str, **parts: str) -> str:
    return store.key(fmt.format(**parts))


@dataclass(frozen=True)
class Opened:
    """What the open script returned for an accepted key."""

    views_left: int
    wrapped: bytes
    kind: str
    sealed_text: bytes
    mime: str
    burned: bool
    expires_at: int


def drop_save(
    *,
    drop_id: str,
    fields: dict[str, bytes | str | int],
    receipt: dict[str, str | int],
    ttl: int,
    expires_at: int,
) -> None:
    """Write a new drop, its receipt and its expiry entry in one transaction."""
    conn = store.client()
    with conn.pipeline(transaction=True) as pipe:
        pipe.hset(_k(DROP_KEY, id=drop_id), mapping=fields)
        pipe.expire(_k(DROP_KEY, id=drop_id), ttl)
        pipe.hset(_k(RECEIPT_KEY, id=drop_id), mapping=receipt)
        pipe.expire(_k(RECEIPT_KEY, id=drop_id), ttl + RECEIPT_GRACE_SECONDS)
        pipe.zadd(store.key(EXPIRY_KEY), {drop_id: expires_at})
        pipe.expire(store.key(EXPIRY_KEY), INDEX_TTL_SECONDS)
        pipe.execute()


def drop_open(*, drop_id: str, key_hash: str, now: int, audio_grace: int) -> Opened | int:
    """Run the open script; an int is the script's refusal (0 gone, -1 wrong, -2 used)."""
    result = _open(
        [_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id), store.key(EXPIRY_KEY)],
        [key_hash, now, drop_id, audio_grace],
    )
    if int(result[0]) != 1:
        return int(result[0])
    _, left, wrapped, kind, sealed_text, mime, burned, expires_at = result
    return Opened(
        views_left=max(int(left), 0),
        wrapped=wrapped,
        kind=kind.decode(),
        sealed_text=sealed_text,
        mime=mime.decode(),
        burned=bool(int(burned)),
        expires_at=int(expires_at),
    )


def drop_burn(*, drop_id: str, token_hash: str, now: int) -> int:
    """Burn now if the receipt matches: 1 burned, 0 already gone, -1 wrong receipt."""
    return int(_burn([_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id)], [token_hash, now]))


def drop_fields(*, drop_id: str, names: list[str]) -> dict[str, bytes | None] | None:
    """Some fields of a live drop, or None when it does not exist."""
    values = store.client().hmget(_k(DROP_KEY, id=drop_id), names)
    if all(value is None for value in values):
        return None
    return dict(zip(names, values, strict=True))


def receipt_fields(*, drop_id: str) -> dict[str, str]:
    """The receipt hash, decoded (empty when gone)."""
    raw = store.client().hgetall(_k(RECEIPT_KEY, id=drop_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


def fails_count(*, drop_id: str, client: str) -> tuple[int, int]:
    """Wrong keys tried on this drop, and by this client, in the current window."""
    found = store.client().mget(
        [_k(FAILS_DROP_KEY, id=drop_id), _k(FAILS_CLIENT_KEY, client=client)]
    )
    return int(found[0] or 0), int(found[1] or 0)


def fails_add(*, drop_id: str, client: str, window: int) -> None:
    """Count one wrong key against the drop and the client, for ``window`` s."""
    with store.client().pipeline(transaction=True) as pipe:
        for name in (_k(FAILS_DROP_KEY, id=drop_id), _k(FAILS_CLIENT_KEY, client=client)):
            pipe.incr(name)
            pipe.expire(name, window)
        pipe.execute()


def ticket_save(*, ticket_hash: str, fields: dict[str, bytes | str], ttl: int) -> None:
    """Store a single-use audio ticket with its TTL."""
    with store.client().pipeline(transaction=True) as pipe:
        pipe.hset(_k(TICKET_KEY, hash=ticket_hash), mapping=fields)
        pipe.expire(_k(TICKET_KEY, hash=ticket_hash), ttl)
        pipe.execute()


def ticket_take(*, ticket_hash: str) -> dict[str, bytes]:
    """Read and delete a ticket in one transaction: it works once."""
    with store.client().pipeline(transaction=True) as pipe:
        pipe.hgetall(_k(TICKET_KEY, hash=ticket_hash))
        pipe.delete(_k(TICKET_KEY, hash=ticket_hash))
        fields, _ = pipe.execute()
    return {k.decode(): v for k, v in fields.items()}


def expiry_forget(*, drop_ids: list[str]) -> None:
    """Drop ids whose files are gone leave the index."""
    if drop_ids:
        store.client().zrem(store.key(EXPIRY_KEY), *drop_ids)


def expiry_due(*, now: float, limit: int = 1000) -> list[str]:
    """Drop ids whose files may go now, oldest first."""
    found = store.client().zrangebyscore(store.key(EXPIRY_KEY), "-inf", now, start=0, num=limit)
    return [item.decode() for item in found]


def expiry_pending(*, drop_ids: list[str]) -> set[str]:
    """Which of these ids still wait in the index (their files are spoken for)."""
    if not drop_ids:
        return set()
    scores = store.client().zmscore(store.key(EXPIRY_KEY), drop_ids)
    return {drop_id for drop_id, score in zip(drop_ids, scores, strict=True) if score}


def drops_live(*, drop_ids: list[str], now: float) -> set[str]:
    """Which of these drops are still live at ``now``, in one round trip."""
    if not drop_ids:
        return set()
    with store.client().pipeline(transaction=False) as pipe:
        for drop_id in drop_ids:
            pipe.hget(_k(DROP_KEY, id=drop_id), "exp")
        found = pipe.execute()
    return {i for i, exp in zip(drop_ids, found, strict=True) if exp and int(exp) > now}


def media_bytes() -> int:
    """Bytes of media on disk, as last counted."""
    return int(store.client().get(store.key(MEDIA_BYTES_KEY)) or 0)


def media_bytes_add(*, amount: int) -> None:
    """Adjust the media byte count by ``amount`` (negative on delete)."""
    with store.client().pipeline(transaction=True) as pipe:
        pipe.incrby(store.key(MEDIA_BYTES_KEY), amount)
        pipe.expire(store.key(MEDIA_BYTES_KEY), INDEX_TTL_SECONDS)
        pipe.execute()


def media_bytes_set(*, amount: int) -> None:
    """Set the media byte count (the sweeper's fresh tally)."""
    store.client().set(store.key(MEDIA_BYTES_KEY), amount, ex=INDEX_TTL_SECONDS)


def sweep_lock(*, token: str, ttl: int) -> bool:
    """Take the sweep lock for ``ttl`` seconds; False if another holds it."""
    return bool(store.client().set(store.key(SWEEP_LOCK_KEY), token, nx=True, ex=ttl))


def sweep_unlock(*, token: str) -> None:
    """Release the sweep lock if we still hold it."""
    _unlock([store.key(SWEEP_LOCK_KEY)], [token])


def keys_of(*, drop_id: str) -> list[str]:
    """Every Redis key one drop uses (for MEMORY USAGE in the benchmark)."""
    return [_k(DROP_KEY, id=drop_id), _k(RECEIPT_KEY, id=drop_id)]
