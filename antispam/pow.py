"""Proof of work: session-bound, single-use, expiring sha256 challenges."""

from __future__ import annotations

import functools
import hashlib
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Concatenate, ParamSpec, TypeVar, cast, overload

import redis.asyncio.client
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from nullboard import errors, metrics, redis_utils
from nullboard.api import on_server_failure, request_data, spec_parse
from nullboard.identity import aidentity_require, identity_require
from nullboard.redis_utils import KeyFormat
from nullboard.specs import Spec, text

# A challenge and its spent form share a slot (the challenge is the hash tag), so
# spending and refunding stay one atomic RENAME; the write-rate buckets share one slot
# of their own, so the window is read in one MGET (docs/scaling.md, "Redis Cluster").
CHALLENGE = KeyFormat("pow:[{challenge}]", challenge="[0-9a-f]{32}")
SPENT = KeyFormat("pow:[{challenge}]:spent", challenge="[0-9a-f]{32}")  # until its TTL
RATE_BUCKET = KeyFormat("pow:rate:[writes]:{bucket}", bucket="[0-9]+")
_consume = redis_utils.lua(__file__, "pow_consume.lua")
_refund = redis_utils.lua(__file__, "pow_refund.lua")
_count = redis_utils.lua(__file__, "pow_count.lua")
_uncount = redis_utils.lua(__file__, "pow_uncount.lua")

SpecT = TypeVar("SpecT", bound=Spec)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Challenge:
    challenge: str
    difficulty: int


def _bucket(now: float) -> int:
    return int(now) // settings.POW_RATE_BUCKET_SECONDS


def _rate_names(now: float | None) -> list[str]:
    """The rate buckets of the sliding window ending now (whole buckets)."""
    now = time.time() if now is None else now
    width = settings.POW_RATE_BUCKET_SECONDS
    current = _bucket(now)
    return [
        RATE_BUCKET(bucket=current - i) for i in range(settings.POW_RATE_WINDOW_SECONDS // width)
    ]


def write_rate(now: float | None = None) -> int:
    """Accepted writes, site-wide, over the sliding window (whole buckets)."""
    return sum(int(v) for v in redis_utils.client().mget(_rate_names(now)) if v is not None)


def difficulty_for_rate(rate: int) -> int:
    """Base difficulty plus one per adaptive threshold reached, capped."""
    extra = sum(1 for threshold in settings.POW_ADAPTIVE_THRESHOLDS if rate >= threshold)
    return min(settings.POW_DIFFICULTY + extra, settings.POW_MAX_DIFFICULTY)


def current_difficulty() -> int:
    """The difficulty handed out now: it rises with the site-wide write rate."""
    if not settings.POW_ADAPTIVE_THRESHOLDS:
        return settings.POW_DIFFICULTY
    return difficulty_for_rate(write_rate())


def leading_zeros(challenge: str, nonce: str) -> int:
    """How many leading hex zeros ``sha256(challenge + nonce)`` has."""
    digest = hashlib.sha256((challenge + nonce).encode()).hexdigest()
    return len(digest) - len(digest.lstrip("0"))


def queue_write_rate(pipe: redis.asyncio.client.Pipeline) -> None:
    """Queue :func:`write_rate`'s read on ``pipe``; :func:`rate_of` reads its reply."""
    # The command, not pipe.mget: redis-py's cluster pipeline refuses that method,
    # and the buckets share one slot, so the command is routed to it whole.
    pipe.execute_command("MGET", *_rate_names(None))


def rate_of(reply: list[bytes | None]) -> int:
    """The write rate in a reply of :func:`queue_write_rate`."""
    return sum(int(v) for v in reply if v is not None)


def queue_challenge(pipe: redis.asyncio.client.Pipeline, *, sid: str, rate: int) -> Challenge:
    """Queue a fresh challenge for the session ``sid`` on ``pipe``, at the difficulty
    for ``rate`` (see :func:`challenge_issue`); it is issued once ``pipe`` runs."""
    challenge = secrets.token_hex(16)
    adaptive = bool(settings.POW_ADAPTIVE_THRESHOLDS)
    difficulty = difficulty_for_rate(rate) if adaptive else settings.POW_DIFFICULTY
    metrics.POW_DIFFICULTY.set(difficulty)
    pipe.set(
        CHALLENGE(challenge=challenge),
        f"{sid}|{difficulty}",
        ex=settings.POW_TTL_SECONDS,
    )
    return Challenge(challenge=challenge, difficulty=difficulty)


def challenge_issue(*, sid: str) -> Challenge:
    """Issue a fresh challenge bound to the session ``sid``."""
    challenge = secrets.token_hex(16)
    difficulty = current_difficulty()
    metrics.POW_DIFFICULTY.set(difficulty)
    redis_utils.client().set(
        CHALLENGE(challenge=challenge),
        f"{sid}|{difficulty}",
        ex=settings.POW_TTL_SECONDS,
    )
    return Challenge(challenge=challenge, difficulty=difficulty)


_REJECTIONS = {
    0: ("pow_expired", _("The challenge is unknown, used or expired; ask for a new one.")),
    -1: ("pow_wrong_session", _("The challenge belongs to another session.")),
    -2: ("pow_insufficient", _("The nonce does not solve the challenge.")),
}


_HEX = frozenset("0123456789abcdef")


def _consume_calls(
    sid: str, challenge: str, nonce: str
) -> tuple[list[redis_utils.ScriptCall], str]:
    """The spend and count scripts (two slots: one pipeline, not a transaction) and
    the rate bucket counted in; errors.Forbidden for a challenge that cannot be ours."""
    if len(challenge) != 32 or not _HEX.issuperset(challenge):
        raise errors.Forbidden(_REJECTIONS[0][1], code="pow_expired")
    zeros = leading_zeros(challenge, nonce)
    bucket = RATE_BUCKET(bucket=_bucket(time.time()))
    bucket_ttl = settings.POW_RATE_WINDOW_SECONDS + settings.POW_RATE_BUCKET_SECONDS
    calls: list[redis_utils.ScriptCall] = [
        (_consume, [CHALLENGE(challenge=challenge), SPENT(challenge=challenge)], [sid, zeros]),
        (_count, [bucket], [bucket_ttl]),  # best effort: refused when Redis is full
    ]
    return calls, bucket


def _refused_counted(results: list[object]) -> bool:
    """Whether the spend failed while its write was counted (to be uncounted)."""
    result, counted = results
    return (isinstance(result, BaseException) or result != 1) and counted == 1


def _consumed(results: list[object], challenge: str, bucket: str) -> Callable[[], bool]:
    """The refund for a spent challenge, or raise the spend's error or refusal
    (the caller has uncounted the write then, see :func:`_refused_counted`)."""
    result = results[0]
    if isinstance(result, BaseException):
        raise result
    if result != 1:
        code, detail = _REJECTIONS[int(cast(int, result))]
        raise errors.Forbidden(detail, code=code)
    return functools.partial(challenge_refund, challenge=challenge, bucket=bucket)


def challenge_consume(*, sid: str, challenge: str, nonce: str) -> Callable[[], bool]:
    """Check and spend a solution in one atomic step; raise errors.Forbidden if bad.

    The write is counted in the current write-rate bucket in the same round trip
    (another slot: a pipeline of two scripts) and uncounted if the solution was
    refused. Returns the refund: calling it makes the challenge usable again (until
    its original expiry), for a write that then failed on the server.
    """
    calls, bucket = _consume_calls(sid, challenge, nonce)
    results = redis_utils.scripts_together(calls)
    if _refused_counted(results):
        _uncount_write(bucket)
    return _consumed(results, challenge, bucket)


async def achallenge_consume(*, sid: str, challenge: str, nonce: str) -> Callable[[], bool]:
    """:func:`challenge_consume` on the event loop's client: the same two scripts in
    one pipeline, the same uncount after a refusal (the refund stays sync: it runs
    only after a server failure)."""
    calls, bucket = _consume_calls(sid, challenge, nonce)
    results = await redis_utils.ascripts_together(calls)
    if _refused_counted(results):
        try:
            await _uncount.acall([bucket], [])
        except redis_utils.OUTAGE_ERRORS:
            pass  # the bucket expires with its window
    return _consumed(results, challenge, bucket)


def _uncount_write(bucket: str) -> None:
    try:
        _uncount([bucket], [])
    except redis_utils.OUTAGE_ERRORS:
        pass  # the bucket expires with its window


def challenge_refund(*, challenge: str, bucket: str) -> bool:
    """Make a spent challenge usable again, and take its write out of the rate;
    False when it has expired meanwhile (then nothing is given back)."""
    refunded = bool(_refund([CHALLENGE(challenge=challenge), SPENT(challenge=challenge)], []) == 1)
    if refunded:
        _uncount_write(bucket)
    return refunded


class PowProof(Spec):
    """The proof of work every write carries (checked last, just before it is spent)."""

    pow_challenge: Annotated[str, text(max_length=64)] = ""
    pow_nonce: Annotated[str, text(max_length=64)] = ""


def pow_verify(request: HttpRequest) -> None:
    """Spend the request's solved challenge (``pow_write`` calls it once the input is
    valid, so a rejected write leaves the challenge usable). If the request then
    ends in a server failure (5xx, an outage), the challenge is refunded."""
    proof = spec_parse(PowProof, request_data(request))
    identity = identity_require(request)
    refund = challenge_consume(
        sid=identity.sid, challenge=proof.pow_challenge, nonce=proof.pow_nonce
    )
    # Spent only on success: a server failure after this point gives it back.
    on_server_failure(request, refund)


async def apow_verify(request: HttpRequest) -> None:
    """:func:`pow_verify` on the event loop."""
    proof = spec_parse(PowProof, request_data(request))
    identity = await aidentity_require(request)
    refund = await achallenge_consume(
        sid=identity.sid, challenge=proof.pow_challenge, nonce=proof.pow_nonce
    )
    on_server_failure(request, refund)


# A write view takes the request and its validated body, then the URL's arguments;
# pow_write hands the URL resolver a view without the body.
_WriteView = Callable[Concatenate[HttpRequest, SpecT, P], R]
_Check = Callable[Concatenate[HttpRequest, SpecT, P], Awaitable[None] | None]
_Decorator = Callable[[_WriteView[SpecT, P, R]], Callable[Concatenate[HttpRequest, P], R]]


@overload
def pow_write(*, check: _Check[Spec, P] | None = None) -> _Decorator[Spec, P, R]: ...


@overload
def pow_write(
    spec: type[SpecT], *, check: _Check[SpecT, P] | None = None
) -> _Decorator[SpecT, P, R]: ...


def pow_write(
    spec: type[Spec] = Spec, *, check: Callable[..., Awaitable[None] | None] | None = None
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """The one decorator for writes that cost a proof of work.

    In this order: validate the body against ``spec`` (a bad body is refused
    before anything is spent); run ``check(request, body, *args, **kwargs)``, the
    write's domain preconditions (the room exists, the quota allows it); spend
    the proof of work (refunded if the answer is a server failure); then call
    ``view(request, body, *args, **kwargs)`` with the validated body. An async
    view (and its async ``check``) runs all of it on the event loop.
    """

    def decorator(view: Callable[..., R]) -> Callable[..., R]:
        if iscoroutinefunction(view):
            return cast(Callable[..., R], _async_write(spec, check, view))

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> R:
            body = spec_parse(spec, request_data(request), request=request)
            if check is not None:
                check(request, body, *args, **kwargs)
            pow_verify(request)
            return view(request, body, *args, **kwargs)

        return wrapper

    return decorator


def _async_write(
    spec: type[Spec],
    check: Callable[..., Awaitable[None] | None] | None,
    view: Callable[..., Awaitable[R]],
) -> Callable[..., Awaitable[R]]:
    """pow_write's steps for an async view (``check`` may be async too)."""

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> R:
        body = spec_parse(spec, request_data(request), request=request)
        if check is not None:
            checked = check(request, body, *args, **kwargs)
            if inspect.isawaitable(checked):
                await checked
        await apow_verify(request)
        return await view(request, body, *args, **kwargs)

    return wrapper
