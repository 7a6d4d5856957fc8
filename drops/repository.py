"""The drops app's Redis repository: every read and write of drops, receipts,
tickets, quotas and the media index (key formats in drops.keys), Lua for the
steps that must be atomic.

Nothing here sees a plaintext or an access key: callers pass sealed bytes and
HMACs only (see drops.sealing).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from typing import Any, TypedDict, Unpack, cast

import redis.asyncio.client
import redis.client

from drops import keys as k
from drops import records
from nullboard import redis_utils

logger = logging.getLogger(__name__)

# The receipt outlives its drop a little, so the creator can see the last view.
RECEIPT_GRACE_SECONDS = 600
# Index and counters live past the longest drop; the sweeper refreshes them.
INDEX_TTL_SECONDS = 7 * 86400

_reserve = redis_utils.lua(__file__, "drop_reserve.lua")
_unreserve = redis_utils.lua(__file__, "drop_unreserve.lua")
_quota_take = redis_utils.lua(__file__, "drop_quota_take.lua")
_media_take = redis_utils.lua(__file__, "drop_media_take.lua")
_media_give = redis_utils.lua(__file__, "drop_media_give.lua")
_save = redis_utils.lua(__file__, "drop_save.lua")
_open = redis_utils.lua(__file__, "drop_open.lua")
_uncount = redis_utils.lua(__file__, "drop_uncount.lua")
_fails_client = redis_utils.lua(__file__, "fails_client.lua")
_burn = redis_utils.lua(__file__, "drop_burn.lua")
_unlock = redis_utils.lua(__file__, "sweep_unlock.lua")

# Answers of drop_claim and drop_save.
STORED = 1
TAKEN = 0  # the id is live, reserved, kept by its receipt, or its files wait for the sweeper
TOO_MANY = -1  # the network's live drops are used up
NETWORK_BYTES = -2  # the network's voice share is used up
MEDIA_FULL = -3  # the media cap is reached


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
    network: str  # the creating network's quota id (given back on a burn)


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


@dataclass(frozen=True)
class Claim:
    """A new drop's id, quota and media index entry, taken before its files are
    written (drop_claim); ``code`` is STORED when all three were taken."""

    code: int
    drop_id: str
    token: str
    network: str
    file_bytes: int  # counted in the media byte count


class ClaimRequest(TypedDict):
    """What a claim takes (drop_claim, adrop_claim)."""

    drop_id: str
    now: int
    reserve_seconds: int
    expires_at: int
    file_bytes: int
    voice_bytes: int
    quota: Quota


def drop_claim(**request: Unpack[ClaimRequest]) -> Claim:
    """Take what a new drop needs before its files are written, in one round trip:
    its id (the drop's slot), its place in its network's quota (the network's slot)
    and its files' index entry and byte count under the media cap (the media slot).

    Three single-slot steps (a pipeline, not a transaction): index and quota entries
    come before the drop record (drop_save), so a crash leaves entries pointing at no
    drop, which expire by their score (quota) or are swept when due (index), never a
    drop without them. If one step refuses or fails, the others are given back.
    """
    claim, calls = _claim_calls(**request)
    answers = redis_utils.scripts_together(calls)
    if (taken := _claim_taken(answers)) is None:
        return claim
    claim_release(claim, **taken)
    return _claim_refused(claim, answers)


async def adrop_claim(**request: Unpack[ClaimRequest]) -> Claim:
    """:func:`drop_claim` on the event loop's client: the same three scripts in one
    pipeline, the same give-back of what was taken when one refuses."""
    claim, calls = _claim_calls(**request)
    answers = await redis_utils.ascripts_together(calls)
    if (taken := _claim_taken(answers)) is None:
        return claim
    await aclaim_release(claim, **taken)
    return _claim_refused(claim, answers)


def _claim_calls(
    *,
    drop_id: str,
    now: int,
    reserve_seconds: int,
    expires_at: int,
    file_bytes: int,
    voice_bytes: int,
    quota: Quota,
) -> tuple[Claim, list[redis_utils.ScriptCall]]:
    """A new claim and its three scripts (reserve, quota, media index), in order."""
    token = secrets.token_hex(8)
    index_ttl = max(INDEX_TTL_SECONDS, expires_at - now + RECEIPT_GRACE_SECONDS)
    quota_table = {
        "id": drop_id,
        "now": now,
        "expires_at": expires_at,
        "voice_bytes": voice_bytes,
        "network_drops": quota.drops,
        "network_bytes": quota.media_bytes,
        "index_ttl": index_ttl,
    }
    media_table = {
        "id": drop_id,
        "expires_at": expires_at,
        "file_bytes": file_bytes,
        "voice": 1 if voice_bytes else 0,
        "media_cap": quota.media_cap,
        "index_ttl": index_ttl,
    }
    calls: list[redis_utils.ScriptCall] = [
        (_reserve, [k.DROP(id=drop_id), k.RECEIPT(id=drop_id)], [token, reserve_seconds]),
        (
            _quota_take,
            [k.QUOTA(network=quota.network), k.QUOTA_BYTES(network=quota.network)],
            [redis_utils.lua_table(quota_table)],
        ),
        (_media_take, [k.EXPIRY(), k.MEDIA_BYTES()], [redis_utils.lua_table(media_table)]),
    ]
    claim = Claim(
        code=STORED, drop_id=drop_id, token=token, network=quota.network, file_bytes=file_bytes
    )
    return claim, calls


def _claim_codes(answers: list[Any]) -> list[int | None]:
    return [int(a) if not isinstance(a, BaseException) else None for a in answers]


def _claim_taken(answers: list[Any]) -> dict[str, bool] | None:
    """None when all three steps took their part; else which ones this request took.

    Give back exactly what this request took: a step that answered 0 found the id
    taken by another drop and changed nothing, and its entry is not ours to remove."""
    codes = _claim_codes(answers)
    if redis_utils.first_error(answers) is None and codes == [1, 1, 1]:
        return None
    return {"reserved": codes[0] == 1, "counted": codes[1] == 1, "indexed": codes[2] == 1}


def _claim_refused(claim: Claim, answers: list[Any]) -> Claim:
    """The refused claim's code (its parts given back already), or the error raised."""
    if (error := redis_utils.first_error(answers)) is not None:
        raise error
    reserve_code, quota_code, media_code = _claim_codes(answers)
    if reserve_code == 0 or quota_code == 0 or media_code == 0:
        code = TAKEN
    elif quota_code is not None and quota_code < 0:
        code = quota_code
    else:
        code = MEDIA_FULL
    return replace(claim, code=code)


def claim_release(
    claim: Claim, *, reserved: bool = True, counted: bool = True, indexed: bool = True
) -> bool | None:
    """Give back a claim whose drop will not be stored (best effort: each step is
    idempotent, and a missed one expires by itself). True when given back; False
    when the reservation is no longer this request's (the drop was stored after all:
    its entries stay); None when Redis did not answer."""
    try:
        if reserved:
            script, keys, args = _unreserve_call(claim)
            if not int(script(keys, args)):
                return False
        if counted:
            with redis_utils.client().pipeline(transaction=False) as pipe:
                _queue_quota_give(pipe, claim)
                pipe.execute()
        if indexed:
            script, keys, args = _media_give_call(claim)
            script(keys, args)
    except redis_utils.OUTAGE_ERRORS:
        return None  # what is left expires by its score and TTL; the sweeper re-counts
    return True


async def aclaim_release(
    claim: Claim, *, reserved: bool = True, counted: bool = True, indexed: bool = True
) -> bool | None:
    """:func:`claim_release` on the event loop's client: the same steps, in order."""
    try:
        if reserved:
            script, keys, args = _unreserve_call(claim)
            if not int(await script.acall(keys, args)):
                return False
        if counted:
            async with redis_utils.aclient().pipeline(transaction=False) as pipe:
                _queue_quota_give(pipe, claim)
                await pipe.execute()
        if indexed:
            script, keys, args = _media_give_call(claim)
            await script.acall(keys, args)
    except redis_utils.OUTAGE_ERRORS:
        return None  # what is left expires by its score and TTL; the sweeper re-counts
    return True


def _unreserve_call(claim: Claim) -> redis_utils.ScriptCall:
    """Give the id back, if the reservation is still this claim's (the drop's slot)."""
    return _unreserve, [k.DROP(id=claim.drop_id)], [claim.token]


def _queue_quota_give(
    pipe: redis.client.Pipeline | redis.asyncio.client.Pipeline, claim: Claim
) -> None:
    """Give the network its place and its bytes back (the network's slot)."""
    pipe.zrem(k.QUOTA(network=claim.network), claim.drop_id)
    pipe.hdel(k.QUOTA_BYTES(network=claim.network), claim.drop_id)


def _media_give_call(claim: Claim) -> redis_utils.ScriptCall:
    """Take the files' index entry and byte count back (the media slot)."""
    return _media_give, [k.EXPIRY(), k.MEDIA_BYTES()], [claim.drop_id, claim.file_bytes]


def drop_save(
    *,
    claim: Claim,
    fields: dict[str, bytes | str | int],
    receipt: records.ReceiptHash,
    ttl: int,
) -> int:
    """Store a claimed drop and its receipt (one script, the drop's slot): the step
    that makes it visible. Returns STORED, or TAKEN when the reservation ran out
    meanwhile (then the claim's entries are given back)."""
    script, keys, args = _save_call(claim=claim, fields=fields, receipt=receipt, ttl=ttl)
    if int(script(keys, args)) != STORED:
        claim_release(claim, reserved=False)
        return TAKEN
    return STORED


async def adrop_save(
    *,
    claim: Claim,
    fields: dict[str, bytes | str | int],
    receipt: records.ReceiptHash,
    ttl: int,
) -> int:
    """:func:`drop_save` on the event loop's client."""
    script, keys, args = _save_call(claim=claim, fields=fields, receipt=receipt, ttl=ttl)
    if int(await script.acall(keys, args)) != STORED:
        await aclaim_release(claim, reserved=False)
        return TAKEN
    return STORED


def _save_call(
    *,
    claim: Claim,
    fields: dict[str, bytes | str | int],
    receipt: records.ReceiptHash,
    ttl: int,
) -> redis_utils.ScriptCall:
    """The save script's call: the drop's and its receipt's fields, if still reserved."""
    table = {
        "token": claim.token,
        "ttl": ttl,
        "receipt_ttl": ttl + RECEIPT_GRACE_SECONDS,
        "fields": len(fields),
    }
    args: list[bytes | str | int] = [redis_utils.lua_table(table)]
    # A TypedDict is no dict[str, ...] to mypy; ReceiptHash's values are all str or int.
    receipt_fields = cast(dict[str, bytes | str | int], dict(receipt))
    for pairs in (fields, receipt_fields):
        for name, value in pairs.items():
            args += [name, value]
    return _save, [k.DROP(id=claim.drop_id), k.RECEIPT(id=claim.drop_id)], list(args)


class OpenCall:
    """The open script's keys and arguments for one attempt (shared by the sync and
    the event-loop path), and its answer read."""

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
        self.drop_id, self.client, self.limits = drop_id, client, limits
        self.keys = [
            k.DROP(id=drop_id),
            k.RECEIPT(id=drop_id),
            k.FAILS_PAIR(id=drop_id, client=client),
            k.FAILS_DROP(id=drop_id),
            k.TICKET(id=drop_id, hash=ticket_hash),
        ]
        table = {
            "verifier": verifier_hash,
            "now": now,
            "id": drop_id,
            "ticket_ttl": ticket_grace,
            "limits": [limits.pair, limits.drop],
            "window": limits.window,
            "ticket_mode": ticket_mode,
        }
        self.args: list[str | bytes] = [redis_utils.lua_table(table), ticket_key]

    @staticmethod
    def wrong(result: list[bytes]) -> bool:
        """Whether the script refused a wrong key (-1) or throttled (-3): then the
        client's cap across drops is the next step (:func:`_client_fails`)."""
        return int(result[0]) in (-1, -3)

    @staticmethod
    def answer(result: list[bytes]) -> Opened | tuple[int, int]:
        """An accepted verifier's view, or the refusal: (0, 0) gone, (-2, 0) used."""
        code = int(result[0])
        if code != 1:
            return code, 0
        _, left, wrapped, kind, ciphertext, mime, burned, expires_at, salt, it, by, network = result
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
            network=network.decode(),
        )


def drop_open(call: OpenCall) -> Opened | tuple[int, int]:
    """Run the open script; a tuple is its refusal: (0, 0) gone, (-1, 0) wrong,
    (-2, 0) used, (-3, seconds to wait) throttled.

    A right key costs one round trip (the drop's slot decides, exactly-N included). A
    wrong one is then counted against the client across drops (its own slot); if
    that cap is reached, the drop's counters are given the guess back and the
    answer is throttled, as if the client's cap had been checked first.
    """
    result = _open(call.keys, call.args)
    if OpenCall.wrong(result):
        fresh, args = _fails_args(call, result)
        over, *wait = _fails_client([k.FAILS_CLIENT(client=call.client)], args)
        if int(over) and fresh:
            _uncount(_uncount_keys(call), [])
        return _fails_answer(result, fresh=fresh, over=int(over), wait=wait)
    return OpenCall.answer(result)


async def adrop_open(call: OpenCall) -> Opened | tuple[int, int]:
    """:func:`drop_open` on the event loop's client: the same steps, in order."""
    result = await _open.acall(call.keys, call.args)
    if OpenCall.wrong(result):
        fresh, args = _fails_args(call, result)
        over, *wait = await _fails_client.acall([k.FAILS_CLIENT(client=call.client)], args)
        if int(over) and fresh:
            await _uncount.acall(_uncount_keys(call), [])
        return _fails_answer(result, fresh=fresh, over=int(over), wait=wait)
    return OpenCall.answer(result)


def _fails_args(call: OpenCall, result: list[bytes]) -> tuple[bool, list[object]]:
    """After a wrong key: the client's cap across drops (counted on a fresh guess,
    only asked for the wait when the drop's counters throttle already)."""
    fresh = int(result[0]) == -1
    return fresh, [call.limits.client, call.limits.window, "1" if fresh else "0"]


def _uncount_keys(call: OpenCall) -> list[str]:
    """The drop's counters a guess is given back to when the client's cap refused it."""
    return [k.FAILS_PAIR(id=call.drop_id, client=call.client), k.FAILS_DROP(id=call.drop_id)]


def _fails_answer(
    result: list[bytes], *, fresh: bool, over: int, wait: list[bytes]
) -> tuple[int, int]:
    if not over:
        return (-1, 0) if fresh else (-3, int(result[1]))
    if fresh:
        return -3, int(wait[0])
    return -3, max(int(result[1]), int(wait[0]))


def drop_burn(*, drop_id: str, token_hash: str, now: int) -> tuple[int, str]:
    """Burn now if the receipt matches: (1, network) burned, (0, "") already gone,
    (-1, "") wrong receipt."""
    keys = [k.DROP(id=drop_id), k.RECEIPT(id=drop_id)]
    result = _burn(keys, [redis_utils.lua_table({"token": token_hash, "now": now})])
    return int(result[0]), result[1].decode() if len(result) > 1 else ""


def drop_gone(*, drop_id: str, network: str, files_until: int | None = None) -> None:
    """After a burn, in one round trip: the network gets its quota back, and the
    media index forgets the drop (its files are deleted) or, with ``files_until``,
    keeps its entry only until then (a voice note still streams once through its
    ticket). Idempotent, and best effort: the burn itself is done (a view it spent is
    answered), and what a missed step leaves frees itself at the drop's expiry (the
    quota entry by its score, the index entry when the sweeper finds it due)."""
    try:
        with redis_utils.client().pipeline(transaction=False) as pipe:
            if network:
                pipe.zrem(k.QUOTA(network=network), drop_id)
                pipe.hdel(k.QUOTA_BYTES(network=network), drop_id)
            if files_until is None:
                pipe.zrem(k.EXPIRY(), drop_id)
            else:
                # XX: only move the drop's entry, never create the index without its TTL.
                pipe.zadd(k.EXPIRY(), {drop_id: files_until}, xx=True)
            pipe.execute()
    except redis_utils.OUTAGE_ERRORS:
        logger.warning("Redis unreachable: a burned drop's quota and index entries wait")


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


def ticket_read(*, drop_id: str, ticket_hash: str) -> dict[str, bytes]:
    """A ticket's fields (empty when spent or expired); reading does not spend it."""
    # As bytes: the client does not decode replies.
    raw = cast(
        dict[bytes, bytes], redis_utils.client().hgetall(k.TICKET(id=drop_id, hash=ticket_hash))
    )
    return {name.decode(): value for name, value in raw.items()}


def ticket_spend(*, drop_id: str, ticket_hash: str) -> bool:
    """Spend a ticket once its answer is ready; False if another request spent it."""
    return bool(redis_utils.client().delete(k.TICKET(id=drop_id, hash=ticket_hash)))


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
