"""Live events: group names and the one way services publish to them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
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
        with _order_lock:
            # Chained, so events leave in the order they were published.
            previous = _last_sent.get(loop)
            future = asyncio.run_coroutine_threadsafe(
                _send_after(previous, layer, groups, message), loop
            )
            _last_sent[loop] = future
        future.add_done_callback(lambda done: _log_failure(done, event))
        return
    try:
        async_to_sync(_send_all)(layer, groups, message)
    except Exception:  # a broadcast is best effort
        logger.warning("Live event %s not delivered", event, exc_info=True)


_order_lock = threading.Lock()
_last_sent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _send_after(previous, layer, groups: list[str], message: dict[str, Any]) -> None:
    if previous is not None and not previous.done():
        await asyncio.wait([asyncio.wrap_future(previous)])
    await _send_all(layer, groups, message)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this sync code was called from through sync_to_async, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or loop.is_closed():
        return None
    return loop


def _log_failure(done: concurrent.futures.Future, event: str) -> None:
    if not done.cancelled() and done.exception() is not None:
        logger.warning("Live event %s not delivered", event, exc_info=done.exception())


async def _send_all(layer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:  # the group rides along: each process's hub routes by it
        await layer.group_send(group, {**message, "group": group})
