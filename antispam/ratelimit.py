"""Rate limits keyed by an HMAC of the client network, never the raw address.

The HMAC key changes every day and is derived from ``SECRET_KEY`` and the date,
so it never sits in Redis: a Redis dump alone cannot be brute-forced back to an
address, and yesterday's keys cannot be linked to today's.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django_ratelimit import core
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from nullboard import redis_utils

ViewT = TypeVar("ViewT", bound=Callable[..., Any])
_count = redis_utils.lua(__file__, "ratelimit_count.lua")


def address_from(remote: str | None, forwarded_for: str) -> str:
    """The client's address: the socket's, or X-Forwarded-For behind n proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [p.strip() for p in forwarded_for.split(",") if p.strip()]
        # Each trusted proxy appends the address it saw; the client is n from the end.
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return remote or "unknown"


def client_address(request: HttpRequest) -> str:
    """The address of an HTTP request's client (see :func:`address_from`)."""
    return address_from(
        request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def scope_address(scope: Mapping[str, Any]) -> str:
    """The address of an ASGI connection's client (WebSockets)."""
    client = scope.get("client") or (None, None)
    forwarded = ""
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    return address_from(client[0], forwarded)


def network_of(address: str, *, wide: bool = False) -> str:
    """The client's network: IPv4 as is and IPv6 by /64; ``wide`` takes IPv4 by /24
    and IPv6 by /48 (flags and quotas, where one subscriber's block is one voice)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return str(ipaddress.ip_network(f"{ip}/24", strict=False)) if wide else str(ip)
    return str(ipaddress.ip_network(f"{ip}/{48 if wide else 64}", strict=False))


@lru_cache(maxsize=4)
def _day_key(secret_key: str, day: str) -> bytes:
    return hashlib.blake2b(
        day.encode(), key=secret_key.encode()[:64], digest_size=32, person=b"nb-client-day"
    ).digest()


def daily_secret(day: str | None = None) -> bytes:
    """The day's HMAC key: derived from SECRET_KEY and the UTC date, never stored."""
    return _day_key(settings.SECRET_KEY, day or datetime.now(UTC).strftime("%Y%m%d"))


def key_for_address(address: str, *, wide: bool = False) -> str:
    """HMAC(day key, client network): a key that never reveals the address."""
    network = network_of(address, wide=wide)
    return hmac.new(daily_secret(), network.encode(), hashlib.sha256).hexdigest()[:32]


def client_key(group: str | None, request: HttpRequest) -> str:
    """Rate-limit key of an HTTP request's client (its address, IPv6 by /64)."""
    return key_for_address(client_address(request))


def client_network_key(group: str | None, request: HttpRequest) -> str:
    """Key of the client's wider network (IPv4 /24, IPv6 /48): for flags and quotas."""
    return key_for_address(client_address(request), wide=True)


def _default_rate(group: str, request: HttpRequest) -> str:
    return f"{settings.RATE_LIMIT_MAX_REQUESTS}/{settings.RATE_LIMIT_WINDOW_SECONDS}s"


def form_limit(group: str, rate: str) -> Callable[[ViewT], ViewT]:
    """Count a form's posts per client; over the limit the view still runs, with
    ``request.limited`` set, so it can answer with the form and a message."""
    decorator: Callable[[ViewT], ViewT] = ratelimit(
        group=group, key=client_key, rate=rate, method="POST", block=False
    )
    return decorator


def write_limit(
    group: str, rate: str | Callable[[str, HttpRequest], str] | None = None
) -> Callable[[ViewT], ViewT]:
    """Limit a write view per client; over the limit it raises Ratelimited (429).

    A sync view gets django-ratelimit's decorator; an async view the same count
    (django-ratelimit's key, window and expiry) in one round trip on the event
    loop's client, where django-ratelimit would take a thread and two commands.
    """
    rate_of = rate or _default_rate
    sync_decorator: Callable[[ViewT], ViewT] = ratelimit(
        group=group, key=client_key, rate=rate_of, method="POST", block=True
    )

    def decorator(view: ViewT) -> ViewT:
        if not iscoroutinefunction(view):
            return sync_decorator(view)
        async_view = cast(Callable[..., Awaitable[HttpResponse]], view)

        @functools.wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limited = await _over_limit(group, rate_of, request)
            request.limited = limited or getattr(request, "limited", False)  # type: ignore[attr-defined]
            if limited:
                raise Ratelimited
            return await async_view(request, *args, **kwargs)

        return cast(ViewT, wrapper)

    return decorator


async def _over_limit(
    group: str, rate: str | Callable[[str, HttpRequest], str], request: HttpRequest
) -> bool:
    """Count this POST against django-ratelimit's bucket; True when over the limit."""
    if request.method != "POST" or not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    rate = rate(group, request) if callable(rate) else rate
    limit, period = core._split_rate(rate)
    value = client_key(group, request)
    window = core._get_window(value, period)
    name = caches["default"].make_key(core._make_cache_key(group, window, rate, value, "POST"))
    # django-ratelimit's add-then-incr as one script on the bucket's key (a MULTI on
    # the asyncio cluster client failed across event loops, and this is one command).
    count = await _count.acall([name], [period + core.EXPIRATION_FUDGE])
    return bool(int(count) > int(limit))
