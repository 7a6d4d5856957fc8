"""Live events: group names and the one way services publish to them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from boards.validation import is_room, is_topic

logger = logging.getLogger(__name__)

HOME_GROUP = "feed.home"
TRENDING_GROUP = "feed.trending"
MESSAGE_TYPE = "feed.event"  # {"group": ..., "texts": [frame, ...]}, read by the hub
MAX_BATCH = 64  # events per layer message when a backlog is sent at once


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
    serving = _serving_loop()
    if serving is None:  # a command or a script: send it before going on
        async_to_sync(send_batch)([item])
        return
    # In a web process, queue the broadcast and return: waiting for it would hold
    # Django's one thread for sync views, and every sync request would queue
    # behind it. A Redis layer sends from this process's publishing loop, which
    # does nothing else, so a busy serving loop cannot delay live events; the
    # in-memory layer belongs to the serving loop and must be sent from it.
    loop = serving if isinstance(layer, InMemoryChannelLayer) else _publishing_loop()
    loop.call_soon_threadsafe(_enqueue, loop, item)


@dataclass(frozen=True, slots=True)
class Published:
    layer: Any
    groups: tuple[str, ...]
    event: str
    text: str


async def send_batch(batch: list[Published]) -> None:
    """Send events, in order, as one layer message per group.

    Under load many events wait at once; each group then gets one message that
    carries all of its frames, so a burst costs a round trip per group, not per
    event, and a group's frames keep their order (the hub sends them in turn).
    """
    frames: dict[tuple[Any, str], list[str]] = {}
    for item in batch:
        for group in item.groups:
            frames.setdefault((item.layer, group), []).append(item.text)
    sends = [
        layer.group_send(group, {"type": MESSAGE_TYPE, "group": group, "texts": texts})
        for (layer, group), texts in frames.items()
    ]
    results = await asyncio.gather(*sends, return_exceptions=True)
    for ((_, group), texts), result in zip(frames.items(), results, strict=True):
        if isinstance(result, Exception):  # a broadcast is best effort
            logger.warning(
                "Live event to %s not delivered (%d frames): %r", group, len(texts), result
            )


class _Sender:
    """One per event loop: sends what was published, in order, batching a backlog."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[Published] = asyncio.Queue()
        self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await send_batch(batch)


_senders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _enqueue(loop: asyncio.AbstractEventLoop, item: Published) -> None:
    """Runs on the loop itself, so the senders need no lock."""
    sender = _senders.get(loop)
    if sender is None or sender.task.done():
        sender = _senders[loop] = _Sender(loop)
    sender.queue.put_nowait(item)


_publisher: tuple[int, asyncio.AbstractEventLoop] | None = None
_publisher_lock = threading.Lock()


def _publishing_loop() -> asyncio.AbstractEventLoop:
    """This process's loop for live events, in a thread of its own, started on first use."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher[0] != os.getpid():  # none yet, or forked
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-events", daemon=True).start()
            _publisher = (os.getpid(), loop)
        return _publisher[1]


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this sync code was called from through sync_to_async, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or loop.is_closed():
        return None
    return loop
