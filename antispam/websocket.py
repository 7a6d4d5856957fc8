"""Who may hold a live socket: pages of this site only, a few sockets per client.

ASGI middleware around the socket router. Sockets from a page of another origin
(scheme, host and port, compared with the request's own) are refused at the
handshake. A client over the cap, or any socket while the store is down, is
accepted and then closed with a code a page can act on (4429, 4013) and an
``error`` frame saying why: a refusal at the handshake reaches a page only as an
anonymous failure it cannot tell from a network fault.

Counts live in Redis (shared by every web process) under the client's HMAC key,
never its address. A process that dies leaves its counts behind; the key's TTL
bounds how long that can wrongly hold a client back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlsplit

from django.conf import settings

from antispam.ratelimit import key_for_address, scope_address
from nullboard import redis_utils
from nullboard.limits import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

CONNECTIONS_KEY = "ws:conn:{client}"
CONNECTIONS_TTL_SECONDS = 3600
CLOSE_TOO_MANY = 4429  # application close code: over the per-client cap
CLOSE_TRY_LATER = 4013  # the store is unreachable (daphne sends only 1000, 3000-4999)
DEFAULT_PORTS = {"http": 80, "https": 443}

_release = redis_utils.lua(__file__, "ws_release.lua")


def _header(scope: Scope, name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or a scheme://host[:port], or None if malformed."""
    # urlsplit quietly drops tabs and newlines and strips spaces; an origin has none.
    if not url.isprintable() or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def site_scheme(scope: Scope) -> str:
    """The scheme pages of this site are served over: https whenever the site runs
    under HTTPS (TLS may end at a proxy, so the socket itself may look plain)."""
    if settings.HTTPS or scope.get("scheme") == "wss":
        return "https"
    return "http"


def same_origin(scope: Scope) -> bool:
    """True if the socket's Origin is this site's exact origin: scheme, host, port.

    The host allow-list (AllowedHostsOriginValidator, outside this) passes any port
    and scheme of an allowed host, which a page on another port of the same
    machine is. Without a Host header (not a browser, which always sends one and
    is all an Origin check protects) there is nothing to compare with but that list.
    """
    host = _header(scope, b"host")
    if host is None:
        return True
    origin = _origin_tuple(_header(scope, b"origin") or "")
    return origin is not None and origin == _origin_tuple(f"{site_scheme(scope)}://{host}")


class ConnectionCapMiddleware:
    """Refuse a socket from another origin; close a client's sockets beyond
    WS_MAX_CONNECTIONS_PER_CLIENT open at once, and any while the store is down."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        if not same_origin(scope):
            return await self._deny(receive, send)
        client = key_for_address(scope_address(scope))
        # Named once: a socket open across midnight gives back the day it took.
        name = redis_utils.key(CONNECTIONS_KEY.format(client=client))
        try:
            async with redis_utils.aclient().pipeline(transaction=True) as pipe:
                pipe.incr(name)  # queued: a pipeline's commands answer in execute()
                pipe.expire(name, CONNECTIONS_TTL_SECONDS)
                count, _ = await pipe.execute()
        except redis_utils.OUTAGE_ERRORS:
            logger.warning("Redis unreachable: closing a new WebSocket")
            return await refuse(
                receive, send, CLOSE_TRY_LATER, "unavailable", "The store is unreachable."
            )
        try:
            if count > settings.WS_MAX_CONNECTIONS_PER_CLIENT:
                return await refuse(
                    receive,
                    send,
                    CLOSE_TOO_MANY,
                    "too_many_sockets",
                    "Too many live connections from your network; close a tab or wait.",
                )
            return await self.app(scope, receive, send)
        finally:
            # Shielded: a cancelled socket gives its place back all the same.
            await asyncio.shield(self._give_back(name))

    @staticmethod
    async def _give_back(name: str) -> None:
        try:
            await _release.acall([name], [])
        except redis_utils.OUTAGE_ERRORS:
            logger.warning("Redis unreachable: a socket count is left to its TTL")

    @staticmethod
    async def _deny(receive: Receive, send: Send) -> None:
        """A handshake refusal (HTTP 403): a page of another site is told nothing."""
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close"})


async def refuse(receive: Receive, send: Send, code: int, error: str, detail: str) -> None:
    """Accept, say why in an ``error`` frame, and close with ``code``: a browser
    shows a page the close code (and reason, where the server sends one), never
    an HTTP status from the handshake."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    frame = {"event": "error", "payload": {"error": error, "code": error, "detail": detail}}
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    # ASGI's close reason; daphne drops it, hence the frame above.
    await send({"type": "websocket.close", "code": code, "reason": detail[:120]})
