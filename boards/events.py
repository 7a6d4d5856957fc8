"""Live events: group names and the one way services publish to them."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
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
    try:
        async_to_sync(_send_all)(layer, groups, message)
    except Exception:  # a broadcast is best effort
        logger.warning("Live event %s not delivered", event, exc_info=True)


async def _send_all(layer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:  # the group rides along: each process's hub routes by it
        await layer.group_send(group, {**message, "group": group})
