"""Rate limits keyed by an HMAC of the client network, never the raw address.

The HMAC key changes every day and is derived from ``SECRET_KEY`` and the date,
so it never sits in Redis: a Redis dump alone cannot be brute-forced back to an
address, and yesterday's keys cannot be linked to today's.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.decorators import ratelimit

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


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
    """Limit a write view per client; over the limit it raises Ratelimited (429)."""
    decorator: Callable[[ViewT], ViewT] = ratelimit(
        group=group, key=client_key, rate=rate or _default_rate, method="POST", block=True
    )
    return decorator
