"""Subscribing: one channel-layer listener per process and loop, many sockets.

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
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import TimeoutError as RedisTimeoutError

from nullboard import metrics
from nullboard.limits import ASGIApp, Receive, Scope, Send
from nullboard.live.sender import SEND_TIMEOUT, ChannelLayer

logger = logging.getLogger(__name__)

YIELD_EVERY = 100  # let the loop breathe (HTTP requests) during a big fan-out
HEARTBEAT = "hub.heartbeat"  # a message type, and the key its numbers are kept under
HEARTBEATS_UNHEARD = 3  # more than this sent since the last one came back: dead
STREAMS_PER_GROUP = 256  # senders remembered per group (each web process is one)
# Daphne (autobahn) sends only 1000 or 3000-4999; 4012 stands for "store lost":
# the page shows paused and reconnects.
CLOSE_STORE_LOST = 4012
# The scope key under which ``direct_send`` keeps the server's own ASGI ``send``.
DIRECT_SEND = "nullboard.direct_send"


class Socket(Protocol):
    # The server's ASGI send (see direct_send): the fan-out awaits it, and only it,
    # once per socket and frame.
    direct_send: Send

    async def close(self, code: int | None = None) -> None: ...


class Hub:
    """The local sockets of each group, and the one layer channel they share.

    Only the channel layer's public interface: ``new_channel``, ``group_add``,
    ``group_discard``, ``receive``, ``send`` and (pub/sub) ``flush``.
    """

    def __init__(self, layer: ChannelLayer) -> None:
        self.layer = layer
        self.members: dict[str, set[Socket]] = {}
        self.channel: str | None = None
        self.pump: asyncio.Task[None] | None = None
        self.watch: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.sent = 0  # heartbeats, numbered per channel
        self.gap = False  # a heartbeat or an event was lost on the way
        # group (or HEARTBEAT) -> stream -> the last number that came through
        self.numbers: dict[str, dict[str, int]] = {}

    async def join(self, group: str, socket: Socket) -> None:
        async with self.lock:
            if self.channel is None:
                # The default prefix: RedisChannelLayer receives every process-local
                # channel through one real channel, named by that prefix.
                self.channel = await self.layer.new_channel()
                self.sent = 0
                self.gap = False
                # Heartbeats start at 1, so even a lost first one shows as a gap.
                self.numbers.clear()
                self.numbers[HEARTBEAT] = {HEARTBEAT: 0}
                self.pump = asyncio.create_task(self._pump(self.channel))
                self.watch = asyncio.create_task(self._watch(self.channel))
            if group not in self.members:
                try:
                    await self.layer.group_add(group, self.channel)
                except BaseException:
                    # A half-made subscription must not outlive a failed or cancelled join.
                    await self._discard_quietly(group, self.channel)
                    raise
                self.members[group] = set()
                self.numbers.pop(group, None)  # numbering is followed from here on
            self.members[group].add(socket)

    async def _discard_quietly(self, group: str, channel: str) -> None:
        """Best effort, bounded: the store may be down (the watch then resets all)."""
        try:
            await asyncio.wait_for(self.layer.group_discard(group, channel), SEND_TIMEOUT)
        except Exception:
            logger.debug("Discard after a failed join failed", exc_info=True)

    async def leave(self, group: str, socket: Socket) -> None:
        async with self.lock:
            members = self.members.get(group)
            if members is None:
                return
            members.discard(socket)
            if not members:
                del self.members[group]
                self.numbers.pop(group, None)
                if self.channel is not None:  # always, while a group has members
                    await self.layer.group_discard(group, self.channel)

    async def _pump(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
                if message.get("type") == HEARTBEAT:
                    self._in_sequence(HEARTBEAT, HEARTBEAT, message.get("n"))
                else:
                    await self.deliver(message)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, RedisTimeoutError):
                continue  # RedisChannelLayer's blocking pop can outlast its socket timeout
            except Exception:  # one bad message (or a store outage) must not stop the feed
                logger.warning("Live event not fanned out", exc_info=True)
                await asyncio.sleep(1)  # an outage raises at once; do not spin

    @property
    def heard(self) -> int:
        """The last heartbeat that came back on this channel (0 before the first)."""
        return self.numbers.get(HEARTBEAT, {}).get(HEARTBEAT, 0)

    async def _watch(self, channel: str) -> None:
        """While sockets listen on ``channel``, check the path events take; if it
        broke, close them all.

        Pub/sub keeps nothing: what is published while a subscription is down is
        lost, and a socket left open would say "Live" while missing posts. So every
        settings.LIVE_HEALTH_INTERVAL_SECONDS the hub sends a numbered heartbeat to its own
        channel, out through Redis and back through the subscription events arrive
        on. The path broke if a send fails or hangs, if more than
        HEARTBEATS_UNHEARD go out and none comes back, or if one comes back after a
        gap in the numbers (the subscription reconnected, say after a failover, and
        lost what came meanwhile). Load only delays heartbeats; it loses none.
        Closed with CLOSE_STORE_LOST, a page shows "paused", reconnects once the
        store answers, and re-reads the feed.
        """
        while True:
            await asyncio.sleep(settings.LIVE_HEALTH_INTERVAL_SECONDS)
            if self.gap:
                reason = "events or heartbeats lost in transit"
                break
            heartbeat = {"type": HEARTBEAT, "n": self.sent + 1}
            try:
                await asyncio.wait_for(self.layer.send(channel, heartbeat), SEND_TIMEOUT)
            except Exception as error:
                # The connection broke (so the subscription did too, and whatever was
                # published until it came back is lost), the store hangs, or the
                # channel is full because the pump fell that far behind.
                reason = f"heartbeat not sent ({type(error).__name__})"
                break
            self.sent += 1
            if self.sent - self.heard > HEARTBEATS_UNHEARD:
                reason = "heartbeats not coming back"
                break
        logger.warning("Live events interrupted, %s: closing live sockets", reason)
        await self.drop_all()

    async def drop_all(self) -> None:
        """Close every local socket, forget the layer channel and its subscriptions;
        the next join subscribes afresh."""
        async with self.lock:
            sockets = {socket for members in self.members.values() for socket in members}
            groups, channel = list(self.members), self.channel
            self.members.clear()  # numbers start afresh with the next channel
            self.channel = None
            pump, watch, self.pump, self.watch = self.pump, self.watch, None, None
        for task in (pump, watch):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        for socket in sockets:
            try:
                await socket.close(code=CLOSE_STORE_LOST)
            except Exception:  # already closing
                logger.debug("Close of a closing socket failed", exc_info=True)
        await self._unsubscribe(groups, channel)

    async def _unsubscribe(self, groups: list[str], channel: str | None) -> None:
        """Best effort, bounded: the store may be down. A pub/sub subscription that
        came back by itself after a reconnect was seen to stop delivering its groups,
        so that layer's connections for this loop are closed and opened anew
        (``flush`` on the pub/sub layer touches nothing in Redis; on the core layer
        it would delete every channel's keys, so there the groups are left one by one)."""
        if isinstance(self.layer, RedisPubSubChannelLayer):
            work = self.layer.flush()
        elif channel is None:
            return  # no channel, so no group to leave
        else:
            work = asyncio.gather(*(self.layer.group_discard(g, channel) for g in groups))
        try:
            await asyncio.wait_for(work, SEND_TIMEOUT)
        except Exception:
            logger.debug("Unsubscribe during an outage failed", exc_info=True)

    async def deliver(self, message: dict[str, Any]) -> None:
        """Send published frames, in order, to every local socket of their group."""
        texts, group = message.get("texts"), message.get("group")
        if not isinstance(texts, list) or group not in self.members:
            return  # malformed, or for a group this hub has just left
        if not self._in_sequence(group, message.get("stream"), message.get("number")):
            return
        sent = 0
        for socket in list(self.members[group]):
            send = socket.direct_send
            for text in texts:
                try:
                    await send({"type": "websocket.send", "text": text})
                except Exception:  # a socket closing mid-send; its disconnect cleans up
                    logger.debug("Send to a closing socket failed", exc_info=True)
                    break
                sent += 1
                if sent % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        metrics.EVENTS_DELIVERED.inc(sent)

    def _in_sequence(self, group: str, stream: object, number: object) -> bool:
        """False for a number seen before; flags a gap when one was skipped."""
        if not isinstance(stream, str) or not isinstance(number, int):
            return True  # unnumbered: nothing to check
        last = self.numbers.setdefault(group, {})
        before = last.get(stream)
        if before is not None and number <= before:
            return False  # a retried send that had got through the first time
        if before is not None and number > before + 1:
            self.gap = True  # lost in Redis or by the sender: pages must re-read
        if before is None and len(last) >= STREAMS_PER_GROUP:
            last.clear()  # long-gone processes; the next of each starts afresh
        last[stream] = number
        return True


def direct_send(app: ASGIApp) -> ASGIApp:
    """Keep the server's own ``send`` in the scope (under DIRECT_SEND), for the
    fan-out's per-socket step.

    Channels' SessionMiddleware wraps ``send`` to save the session, which it does
    only on ``http.response.start``; for every ``websocket.send`` the wrapper reads
    the lazy session's ``modified`` and ``is_empty()`` and passes the message on,
    and it and the consumer's two ``send`` methods were a fifth of a fan-out's time
    (docs/scaling.md, "Live fan-out: where the time goes"). Put it where the
    server's ``send`` is still unwrapped, around the session middleware.
    """

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, DIRECT_SEND: send}, receive, send)

    return application


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub on the current channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    if layer is None:  # settings always name one (in memory without REDIS_URL)
        raise ImproperlyConfigured("CHANNEL_LAYERS has no default layer.")
    found = _hubs.get(loop)
    if found is None or found.layer is not layer:
        found = Hub(layer)
        _hubs[loop] = found
    return found
