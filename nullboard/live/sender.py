"""Publishing: serialise an event once, number it per sender and group, send it.

Sync callers (services run by a view, a consumer or a command) go through
``publish``; async ones through ``apublish``. On a server's event loop (marked by
``serve``) the event joins that loop's queue and the caller goes on at once; a
command has no such loop, so its events are sent before ``publish`` returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import weakref
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from nullboard import metrics
from nullboard.limits import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "feed.event"  # {group, texts: [frame, ...], stream, number}, read by the hub
MAX_BATCH = 64  # events per layer message when a backlog is sent at once
RETRY_SECONDS = 5.0  # a failover takes a few seconds; a longer outage loses events
SEND_TIMEOUT = 5.0  # a send that hangs this long (a partitioned master) has failed


class ChannelLayer(Protocol):
    """The public interface of a Channels layer this package uses; channels_redis's
    pub/sub layer has it without subclassing channels' BaseChannelLayer."""

    async def new_channel(self) -> str: ...

    async def send(self, channel: str, message: dict[str, Any]) -> None: ...

    async def receive(self, channel: str) -> dict[str, Any]: ...

    async def group_add(self, group: str, channel: str) -> None: ...

    async def group_discard(self, group: str, channel: str) -> None: ...

    async def group_send(self, group: str, message: dict[str, Any]) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Published:
    layer: ChannelLayer
    groups: tuple[str, ...]
    event: str
    text: str


def publish(groups: Iterable[str], event: str, payload: Mapping[str, Any]) -> None:
    """Send ``{event, payload}`` to every subscriber of ``groups``, in any process.

    The write has already happened; a failed broadcast must not undo it or fail
    the request, so it is logged and dropped (pages catch up from the feed API).
    """
    item = _published(groups, event, payload)
    if item is None:
        return
    try:
        async_to_sync(_handle)(item)
    except Exception:  # a loop shutting down, say: the write stands regardless
        logger.warning("Live event %s not delivered", event, exc_info=True)


async def apublish(groups: Iterable[str], event: str, payload: Mapping[str, Any]) -> None:
    """``publish`` for async callers."""
    item = _published(groups, event, payload)
    if item is not None:
        await _handle(item)


def _published(groups: Iterable[str], event: str, payload: Mapping[str, Any]) -> Published | None:
    layer, groups = get_channel_layer(), tuple(groups)
    if layer is None or not groups:
        return None
    # Serialised once here, not once per subscriber: the hub sends ``text`` as is.
    text = json.dumps({"event": event, "payload": payload}, separators=(",", ":"))
    metrics.EVENTS_PUBLISHED.inc()
    return Published(layer, groups, event, text)


# The event loops of running servers. async_to_sync brings a publish from a
# request's thread back to the loop that serves it (asgiref's documented
# behaviour), so a publish made there can queue and return; any other loop (a
# command's, made for this one call) ends with the call, so it sends and waits.
_serving: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def serve(app: ASGIApp) -> ASGIApp:
    """Wrap the ASGI application so the loop it runs on queues live events."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        _serving.add(asyncio.get_running_loop())
        await app(scope, receive, send)

    return application


async def _handle(item: Published) -> None:
    loop = asyncio.get_running_loop()
    if loop in _serving:
        # Waiting for Redis here would hold the request (and, for sync views,
        # Django's one sync thread) for a round trip, or for SEND_TIMEOUT when
        # the store hangs.
        _enqueue(loop, item)
    else:
        await send_batch([item])


class Stream:
    """One sender's numbering of its messages, per group.

    Each message to a group carries the stream's id and the next number. The
    hub that sees a number skipped knows a message was lost, in Redis or here,
    and closes its sockets so their pages re-read the feed; one that sees a
    number again drops it (a retried send that had got through).
    """

    def __init__(self) -> None:
        self.id = secrets.token_hex(8)
        self.numbers: dict[str, int] = {}

    def next(self, group: str) -> int:
        self.numbers[group] = self.numbers.get(group, 0) + 1
        return self.numbers[group]


async def send_batch(
    batch: list[Published],
    *,
    retry_seconds: float = RETRY_SECONDS,
    stream: Stream | None = None,
) -> bool:
    """Send events, in order, as one layer message per group; False if some were lost.

    Under load many events wait at once; each group then gets one message that
    carries all of its frames, so a burst costs a round trip per group, not per
    event, and a group's frames keep their order (the hub sends them in turn).
    A failed send is retried for ``retry_seconds``, which carries events across a
    Sentinel failover or a dropped connection; past that they are logged and lost,
    and the gap in ``stream``'s numbers tells every hub to close its sockets.
    """
    stream = stream or Stream()
    texts: dict[tuple[ChannelLayer, str], list[str]] = {}
    for item in batch:
        for group in item.groups:
            texts.setdefault((item.layer, group), []).append(item.text)
    pending: dict[tuple[ChannelLayer, str], dict[str, Any]] = {
        (layer, group): {
            "type": MESSAGE_TYPE,
            "group": group,
            "texts": frames,
            "stream": stream.id,
            "number": stream.next(group),
        }
        for (layer, group), frames in texts.items()
    }
    deadline, pause = time.monotonic() + retry_seconds, 0.1
    while True:
        results = await asyncio.gather(
            *(
                asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT)
                for (layer, group), message in pending.items()
            ),
            return_exceptions=True,
        )
        errors = {
            key: result
            for key, result in zip(pending, results, strict=True)
            if isinstance(result, Exception)
        }
        if not errors:
            return True
        if time.monotonic() + pause > deadline:
            for key, error in errors.items():
                frames = len(pending[key]["texts"])
                logger.warning(
                    "Live event to %s not delivered (%d frames): %r", key[1], frames, error
                )
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
        pending = {key: pending[key] for key in errors}


class Sender:
    """One per serving loop: sends what was published, in order, batching a backlog.

    While the layer keeps failing, batches are tried once, not retried: events
    queued behind a long outage would otherwise wait RETRY_SECONDS each.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[Published] = asyncio.Queue()
        self.stream = Stream()
        self.failing = False
        self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            retry = 0.0 if self.failing else RETRY_SECONDS
            sent = await send_batch(batch, retry_seconds=retry, stream=self.stream)
            self.failing = not sent


_senders: MutableMapping[asyncio.AbstractEventLoop, Sender] = weakref.WeakKeyDictionary()


def _enqueue(loop: asyncio.AbstractEventLoop, item: Published) -> None:
    """Runs on the loop itself, so the senders need no lock."""
    sender = _senders.get(loop)
    if sender is None or sender.task.done():
        sender = _senders[loop] = Sender(loop)
    sender.queue.put_nowait(item)
