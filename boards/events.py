"""Live events: group names and the one way services publish to them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import weakref
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from boards.validation import is_room, is_topic

logger = logging.getLogger(__name__)

HOME_GROUP = "feed.home"
TRENDING_GROUP = "feed.trending"
MESSAGE_TYPE = "feed.event"  # handled by FeedConsumer.feed_event


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
    # Serialised once here, not once per subscriber: consumers send ``text`` as is.
    text = json.dumps({"event": event, "payload": payload}, separators=(",", ":"))
    message = {"type": MESSAGE_TYPE, "event": event, "text": text}
    loop = _serving_loop()
    if loop is not None:
        # In a web process, hand the broadcast to the event loop and return: waiting
        # for it would hold Django's one thread for sync views while the loop is
        # busy, and every sync request would queue behind it.
        loop.call_soon_threadsafe(_enqueue, loop, (layer, groups, message))
        return
    try:
        async_to_sync(_send_all)(layer, groups, message)
    except Exception:  # a broadcast is best effort
        logger.warning("Live event %s not delivered", event, exc_info=True)


class _Sender:
    """One per event loop: sends published events in the order they were published."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while True:
            layer, groups, message = await self.queue.get()
            try:
                await _send_all(layer, groups, message)
            except Exception:  # a broadcast is best effort
                logger.warning("Live event %s not delivered", message["event"], exc_info=True)


_senders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _enqueue(loop: asyncio.AbstractEventLoop, item: tuple) -> None:
    """Runs on the loop itself, so the senders need no lock."""
    sender = _senders.get(loop)
    if sender is None or sender.task.done():
        sender = _senders[loop] = _Sender(loop)
    sender.queue.put_nowait(item)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this sync code was called from through sync_to_async, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or loop.is_closed():
        return None
    return loop


async def _send_all(layer, groups: list[str], message: dict[str, Any]) -> None:
    # The group rides along: each process's hub routes by it. Groups go out
    # together; one event's sends finish before the next event's start.
    await asyncio.gather(*(layer.group_send(g, {**message, "group": g}) for g in groups))
