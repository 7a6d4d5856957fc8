"""A cap on open WebSockets per client, as ASGI middleware around the socket router.

Counts live in Redis (shared by every web process) under the client's HMAC key,
never its address. A process that dies leaves its counts behind; the key's TTL
bounds how long that can wrongly hold a client back.
"""

from __future__ import annotations

import logging

from django.conf import settings

from antispam.ratelimit import key_for_address, scope_address
from nullboard import store

logger = logging.getLogger(__name__)

CONNECTIONS_KEY = "ws:conn:{client}"
CONNECTIONS_TTL_SECONDS = 3600
CLOSE_TOO_MANY = 4429  # application close code: over the per-client cap
CLOSE_TRY_LATER = 4013  # the store is unreachable (daphne sends only 1000, 3000-4999)


class ConnectionCapMiddleware:
    """Refuse a client's socket beyond WS_MAX_CONNECTIONS_PER_CLIENT open at once."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        try:
            client = key_for_address(scope_address(scope))
            name = store.key(CONNECTIONS_KEY.format(client=client))
            conn = store.aclient()
            async with conn.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(name).expire(name, CONNECTIONS_TTL_SECONDS).execute()
        except store.OUTAGE_ERRORS:
            logger.warning("Redis unreachable: refusing a WebSocket")
            return await self._refuse(receive, send, CLOSE_TRY_LATER)
        try:
            if count > settings.WS_MAX_CONNECTIONS_PER_CLIENT:
                return await self._refuse(receive, send, CLOSE_TOO_MANY)
            return await self.app(scope, receive, send)
        finally:
            try:
                await conn.decr(name)
            except store.OUTAGE_ERRORS:
                pass  # the TTL clears it

    @staticmethod
    async def _refuse(receive, send, code: int) -> None:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": code})
