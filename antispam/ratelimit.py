"""Rate limits keyed by an HMAC of the client network, never the raw address.

The HMAC secret rotates daily and lives in Redis with a TTL, so yesterday's
keys cannot be linked to today's and nothing on disk maps back to an address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.decorators import ratelimit

from nullboard import store

HMAC_DAY_KEY = "rl:secret:{day}"
_SECRET_CACHE_SECONDS = 60  # re-read now and then, in case Redis lost it (purge)
_cached: tuple[str, float, bytes] | None = None


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


def scope_address(scope: dict) -> str:
    """The address of an ASGI connection's client (WebSockets)."""
    client = scope.get("client") or (None, None)
    forwarded = ""
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    return address_from(client[0], forwarded)


def network_of(address: str) -> str:
    """IPv4 as is; IPv6 by its /64 (one subscriber usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def daily_secret(day: str | None = None) -> bytes:
    """Today's HMAC secret, shared by every process through Redis."""
    global _cached
    day = day or datetime.now(UTC).strftime("%Y%m%d")
    now = time.monotonic()
    if _cached and _cached[0] == day and now - _cached[1] < _SECRET_CACHE_SECONDS:
        return _cached[2]
    conn = store.client()
    name = store.key(HMAC_DAY_KEY.format(day=day))
    # One round trip: SET NX lets the first process pick the secret, GET=True
    # returns whichever secret won.
    value = conn.set(name, secrets.token_hex(32), nx=True, ex=2 * 86400, get=True)
    if value is None:
        value = conn.get(name)
    found = value if isinstance(value, bytes) else str(value).encode()
    _cached = (day, now, found)
    return found


def key_for_address(address: str) -> str:
    """HMAC(daily secret, client network): a key that never reveals the address."""
    network = network_of(address)
    return hmac.new(daily_secret(), network.encode(), hashlib.sha256).hexdigest()[:32]


def client_key(group: str | None, request: HttpRequest) -> str:
    """Rate-limit key of an HTTP request's client."""
    return key_for_address(client_address(request))


def _default_rate(group: str, request: HttpRequest) -> str:
    return f"{settings.RATE_LIMIT_MAX_REQUESTS}/{settings.RATE_LIMIT_WINDOW_SECONDS}s"


def write_limit(group: str, rate: str | Callable | None = None) -> Callable:
    """Limit a write view per client; over the limit it raises Ratelimited (429)."""
    return ratelimit(
        group=group, key=client_key, rate=rate or _default_rate, method="POST", block=True
    )
