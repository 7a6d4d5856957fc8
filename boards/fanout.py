"""Process-local fan-out: one channel-layer listener per process, many sockets.

Channels' usual way gives every socket its own group membership, so one event
to 500 sockets wakes 500 consumer tasks, each going through its own queue and
dispatch loop. Here the process joins each group once (one Redis subscription
per group per process with the pub/sub layer) and writes the frame, already
serialised by the publisher, straight to each local socket in one pass.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer
from redis.exceptions import TimeoutError as RedisTimeoutError

from nullboard import store

logger = logging.getLogger(__name__)

YIELD_EVERY = 100  # let the loop breathe (HTTP requests) during a big fan-out
HEALTH_INTERVAL_SECONDS = 2.0
# Daphne (autobahn) sends only 1000 or 3000-4999; 4012 stands for "store lost":
# the page shows paused and reconnects.
CLOSE_STORE_LOST = 4012


class Socket(Protocol):
    async def send(self, text_data: str | None = None) -> None: ...

    async def close(self, code: int | None = None) -> None: ...


class Hub:
    """The local sockets of each group, and the one layer channel they share."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.members: dict[str, set[Socket]] = {}
        self.channel: str | None = None
        self.pump: asyncio.Task | None = None
        self.watch: asyncio.Task | None = None
        self.lock = asyncio.Lock()

    async def join(self, group: str, socket: Socket) -> None:
        async with self.lock:
            if self.channel is None:
                # The default prefix: RedisChannelLayer receives every process-local
                # channel through one real channel, named by that prefix.
                self.channel = await self.layer.new_channel()
                self.pump = asyncio.create_task(self._pump(self.channel))
                self.watch = asyncio.create_task(self._watch())
            if group not in self.members:
                await self.layer.group_add(group, self.channel)
                self.members[group] = set()
            self.members[group].add(socket)

    async def leave(self, group: str, socket: Socket) -> None:
        async with self.lock:
            members = self.members.get(group)
            if members is None:
                return
            members.discard(socket)
            if not members:
                del self.members[group]
                await self.layer.group_discard(group, self.channel)

    async def _pump(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
                await self.deliver(message)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, RedisTimeoutError):
                continue  # RedisChannelLayer's blocking pop can outlast its socket timeout
            except Exception:  # one bad message (or a store outage) must not stop the feed
                logger.warning("Live event not fanned out", exc_info=True)
                await asyncio.sleep(1)  # an outage raises at once; do not spin

    async def _watch(self) -> None:
        """While sockets listen, check the store; if it is gone, close them all.

        Events published during an outage are lost, so a socket that stayed open
        would say "Live" while missing posts. Closed, its page shows "paused",
        reconnects with backoff once the store answers, and joins afresh.
        """
        conn, failures = store.aclient_single(), 0
        try:
            while True:
                await asyncio.sleep(HEALTH_INTERVAL_SECONDS)
                try:
                    await conn.ping()
                    failures = 0
                except (*store.OUTAGE_ERRORS, OSError):
                    failures += 1  # twice in a row: a blip is not an outage
                    if failures >= 2:
                        logger.warning("Redis unreachable: closing live sockets")
                        await self.drop_all()
                        return
        finally:
            await conn.aclose()

    async def drop_all(self) -> None:
        """Close every local socket and forget the layer channel (subscribe anew later)."""
        async with self.lock:
            sockets = {socket for members in self.members.values() for socket in members}
            self.members.clear()
            self.channel = None
            pump, self.pump, self.watch = self.pump, None, None
        if pump is not None:
            pump.cancel()
        for socket in sockets:
            try:
                await socket.close(code=CLOSE_STORE_LOST)
            except Exception:  # already closing
                logger.debug("Close of a closing socket failed", exc_info=True)

    async def deliver(self, message: dict[str, Any]) -> None:
        """Send published frames, in order, to every local socket of their group."""
        texts, group = message.get("texts"), message.get("group")
        if not isinstance(texts, list) or group is None:
            return
        sent = 0
        for socket in list(self.members.get(group, ())):
            for text in texts:
                try:
                    await socket.send(text_data=text)
                except Exception:  # a socket closing mid-send; its disconnect cleans up
                    logger.debug("Send to a closing socket failed", exc_info=True)
                    break
                sent += 1
                if sent % YIELD_EVERY == 0:
                    await asyncio.sleep(0)


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub on the current channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    found = _hubs.get(loop)
    if found is None or found.layer is not layer:
        found = Hub(layer)
        _hubs[loop] = found
    return found
