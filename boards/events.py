"""Live events: group names and the one way services publish to them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from boards.validation import is_room, is_topic

logger = logging.getLogger(__name__)

HOME_GROUP = "feed.home"
TRENDING_GROUP = "feed.trending"
MESSAGE_TYPE = "feed.event"  # {group, texts: [frame, ...], stream, number}, read by the hub
MAX_BATCH = 64  # events per layer message when a backlog is sent at once
RETRY_SECONDS = 5.0  # a failover takes a few seconds; a longer outage loses events
SEND_TIMEOUT = 5.0  # a send that hangs this long (a partitioned master) has failed


def topic_group(topic: str) -> str:
    if not is_topic(topic):
        raise ValueError("not a topic slug")
    return f"topic.{topic}"


def room_group(room: str) -> str:
    if not is_room(room):
        raise ValueError("not a room id")
    return f"room.{room}"


def groups_for(*, topic: str | None = None, room: str | None = None) -> list[str]:
    """Where an item's events go: its room, or its topic plus the home feed."""
    if room:
        return [room_group(room)]
    if topic:
        return [topic_group(topic), HOME_GROUP]
    return []


def publish(groups: list[str], event: str, payload: dict[str, Any]) -> None:
    """Send ``{event, payload}`` to every subscriber of ``groups``, in any process.

    The write has already happened; a failed broadcast must not undo it or fail
    the request, so it is logged and dropped (clients re-read on reconnect).
    """
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    # Serialised once here, not once per subscriber: the hub sends ``text`` as is.
    text = json.dumps({"event": event, "payload": payload}, separators=(",", ":"))
    item = Published(layer, tuple(groups), event, text)
    try:
        serving = _serving_loop()
        if serving is None:  # a command or a script: send it before going on
            async_to_sync(send_batch)([item])
            return
        # In a web process, queue the broadcast and return: waiting for it would
        # hold Django's one thread for sync views, and every sync request would
        # queue behind it. A Redis layer sends from this process's publishing loop,
        # which does nothing else, so a busy serving loop cannot delay live events;
        # the in-memory layer belongs to the serving loop and must be sent from it.
        loop = serving if isinstance(layer, InMemoryChannelLayer) else _publishing_loop()
        loop.call_soon_threadsafe(_enqueue, loop, item)
    except Exception:  # a loop shutting down, say: the write stands regardless
        logger.warning("Live event %s not delivered", event, exc_info=True)


@dataclass(frozen=True, slots=True)
class Published:
    layer: Any
    groups: tuple[str, ...]
    event: str
    text: str


class Stream:
    """One sender's numbering of its messages, per group.

    Each message to a group carries the stream's id and the next number. The
    hub (boards.fanout) that sees a number skipped knows a message was lost,
    in Redis or here, and closes its sockets so their pages re-read the feed;
    one that sees a number again drops it (a retried send that had got through).
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
    texts: dict[tuple[Any, str], list[str]] = {}
    for item in batch:
        for group in item.groups:
            texts.setdefault((item.layer, group), []).append(item.text)
    pending = {
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
            for (layer, group), error in errors.items():
                frames = len(pending[layer, group]["texts"])
                logger.warning(
                    "Live event to %s not delivered (%d frames): %r", group, frames, error
                )
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
        pending = {key: pending[key] for key in errors}


class _Sender:
    """One per event loop: sends what was published, in order, batching a backlog.

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


_senders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _enqueue(loop: asyncio.AbstractEventLoop, item: Published) -> None:
    """Runs on the loop itself, so the senders need no lock."""
    sender = _senders.get(loop)
    if sender is None or sender.task.done():
        sender = _senders[loop] = _Sender(loop)
    sender.queue.put_nowait(item)


_publisher: asyncio.AbstractEventLoop | None = None
_publisher_lock = threading.Lock()


def _publishing_loop() -> asyncio.AbstractEventLoop:
    """This process's loop for live events, in a thread of its own, started on first use."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = asyncio.new_event_loop()
            threading.Thread(target=_publisher.run_forever, name="live-events", daemon=True).start()
        return _publisher


def _forget_publisher() -> None:
    """A forked child has neither the thread nor, perhaps, a usable lock."""
    global _publisher, _publisher_lock
    _publisher, _publisher_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_publisher)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this sync code was called from through sync_to_async, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or loop.is_closed():
        return None
    return loop
