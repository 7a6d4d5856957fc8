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
from nullboard.specs import Spec, text

CHALLENGE_KEY = "pow:{challenge}"
SPENT_KEY = "pow:{challenge}:spent"  # a spent challenge, until its TTL (refundable)
RATE_BUCKET_KEY = "pow:rate:{bucket}"
_consume = redis_utils.lua(__file__, "pow_consume.lua")
_refund = redis_utils.lua(__file__, "pow_refund.lua")

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
        redis_utils.key(RATE_BUCKET_KEY.format(bucket=current - i))
        for i in range(settings.POW_RATE_WINDOW_SECONDS // width)
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


def queue_write_rate(pipe: redis.asyncio.client.Pipeline) -> int:
    """Queue :func:`write_rate`'s reads on ``pipe`` (one GET per bucket: a cluster's
    pipeline takes no MGET); returns how many replies :func:`rate_of` then reads."""
    names = _rate_names(None)
    for name in names:
        pipe.get(name)
    return len(names)


def rate_of(replies: list[bytes | None]) -> int:
    """The write rate in the replies of :func:`queue_write_rate`."""
    return sum(int(v) for v in replies if v is not None)


def queue_challenge(pipe: redis.asyncio.client.Pipeline, *, sid: str, rate: int) -> Challenge:
    """Queue a fresh challenge for the session ``sid`` on ``pipe``, at the difficulty
    for ``rate`` (see :func:`challenge_issue`); it is issued once ``pipe`` runs."""
    challenge = secrets.token_hex(16)
    adaptive = bool(settings.POW_ADAPTIVE_THRESHOLDS)
    difficulty = difficulty_for_rate(rate) if adaptive else settings.POW_DIFFICULTY
    metrics.POW_DIFFICULTY.set(difficulty)
    pipe.set(
        redis_utils.key(CHALLENGE_KEY.format(challenge=challenge)),
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
        redis_utils.key(CHALLENGE_KEY.format(challenge=challenge)),
        f"{sid}|{difficulty}",
        ex=settings.POW_TTL_SECONDS,
    )
    return Challenge(challenge=challenge, difficulty=difficulty)


_REJECTIONS = {
    0: ("pow_expired", _("The challenge is unknown, used or expired; ask for a new one.")),
    -1: ("pow_wrong_session", _("The challenge belongs to another session.")),
    -2: ("pow_insufficient", _("The nonce does not solve the challenge.")),
}


def _keys(challenge: str, bucket: str) -> list[str]:
    return [
        redis_utils.key(CHALLENGE_KEY.format(challenge=challenge)),
        redis_utils.key(SPENT_KEY.format(challenge=challenge)),
        bucket,
    ]


_HEX = frozenset("0123456789abcdef")


def _consume_args(sid: str, challenge: str, nonce: str) -> tuple[list[str], list[object], str]:
    """The consume script's keys and arguments, and the rate bucket it counts in;
    errors.Forbidden for a challenge that cannot be one of ours."""
    if len(challenge) != 32 or not _HEX.issuperset(challenge):
        raise errors.Forbidden(_REJECTIONS[0][1], code="pow_expired")
    zeros = leading_zeros(challenge, nonce)
    bucket = redis_utils.key(RATE_BUCKET_KEY.format(bucket=_bucket(time.time())))
    live, spent, _ = _keys(challenge, bucket)
    window = settings.POW_RATE_WINDOW_SECONDS + settings.POW_RATE_BUCKET_SECONDS
    return [live, bucket, spent], [sid, zeros, window], bucket


def _consumed(result: object, challenge: str, bucket: str) -> Callable[[], bool]:
    if result != 1:
        code, detail = _REJECTIONS[int(cast(int, result))]
        raise errors.Forbidden(detail, code=code)
    return functools.partial(challenge_refund, challenge=challenge, bucket=bucket)


def challenge_consume(*, sid: str, challenge: str, nonce: str) -> Callable[[], bool]:
    """Check and spend a solution in one atomic step; raise errors.Forbidden if bad.

    Returns the refund: calling it makes the challenge usable again (until its
    original expiry), for a write that then failed on the server.
    """
    keys, args, bucket = _consume_args(sid, challenge, nonce)
    return _consumed(_consume(keys, args), challenge, bucket)


async def achallenge_consume(*, sid: str, challenge: str, nonce: str) -> Callable[[], bool]:
    """:func:`challenge_consume` on the event loop's client (the refund stays sync:
    it runs only after a server failure)."""
    keys, args, bucket = _consume_args(sid, challenge, nonce)
    return _consumed(await _consume.acall(keys, args), challenge, bucket)


def challenge_refund(*, challenge: str, bucket: str) -> bool:
    """Make a spent challenge usable again; False when it has expired meanwhile."""
    return bool(_refund(_keys(challenge, bucket), []) == 1)


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
