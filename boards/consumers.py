"""The live feed: one WebSocket per page, subscribed to topics, rooms or home.

Frames are ``{"event": NAME, "payload": {...}}`` both ways. Bad frames get an
``error`` frame and the socket stays open; nothing a client sends can crash it.
Group events reach the socket through the process's hub (boards.fanout), which
listens on the channel layer once per process, not once per socket.
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from boards import events, fanout, keys
from boards.validation import is_room, is_topic
from nullboard import store
from nullboard.identity import name_from_scope

MAX_FRAME_BYTES = 16 * 1024
MAX_SUBSCRIPTIONS = 20


def _username(scope: dict[str, Any]) -> str | None:
    return name_from_scope(scope)  # the session's, else the page's signed name cookie


class FeedConsumer(AsyncWebsocketConsumer):
    # No channel of its own: events reach the socket through the process's hub,
    # so a per-socket channel would only add one idle blocking receive per socket
    # (500 of them on the core layer). An alias no layer has gives none.
    channel_layer_alias = "__hub_only__"

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, minus its close_old_connections() before every
        message: that is a thread hop per message per socket (most of the cost of
        fanning one post out to 500 sockets), for a database Nullboard has not got
        (DATABASES = {})."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.subscriptions: dict[str, dict[str, str]] = {}
        await self.accept()
        await fanout.hub().join(events.TRENDING_GROUP, self)
        username = await sync_to_async(_username)(self.scope)
        await self.send_event(
            "session:ready", {"username": username, "max_subscriptions": MAX_SUBSCRIPTIONS}
        )

    async def disconnect(self, code: int) -> None:
        for group in [events.TRENDING_GROUP, *getattr(self, "subscriptions", {})]:
            await fanout.hub().leave(group, self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if text_data is None:
            return await self.send_error("invalid_frame", "Send JSON text frames.")
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
            return await self.send_error("too_large", "Frames are limited to 16 KiB.")
        try:
            frame = json.loads(text_data)
        except ValueError:
            return await self.send_error("invalid_json", "The frame is not JSON.")
        if not isinstance(frame, dict) or not isinstance(frame.get("payload", {}), dict):
            return await self.send_error("invalid_frame", "Send {event, payload}.")
        event = frame.get("event")
        handler = {"topic:join": self.join, "topic:leave": self.leave}.get(
            event if isinstance(event, str) else ""
        )
        if handler is None:
            return await self.send_error("unknown_event", "Unknown event.")
        try:
            await handler(frame.get("payload") or {})
        except store.OUTAGE_ERRORS:
            # No middleware out here: a Redis blip must not kill the socket.
            await self.send_error("unavailable", "The store is unreachable; try again shortly.")

    async def _target(self, payload: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
        """The group a join/leave payload names, validated, or None (error sent)."""
        topic, room, feed = payload.get("topic"), payload.get("room"), payload.get("feed")
        if sum(value is not None for value in (topic, room, feed)) != 1:
            await self.send_error("invalid_payload", "Give one of topic, room or feed.")
            return None
        if topic is not None:
            if not is_topic(topic):
                await self.send_error("invalid_topic", "That is not a topic slug.")
                return None
            return events.topic_group(topic), {"topic": topic}
        if room is not None:
            if not is_room(room):
                await self.send_error("invalid_room", "That is not a room id.")
                return None
            return events.room_group(room), {"room": room}
        if feed != "home":
            await self.send_error("invalid_feed", "The only feed is 'home'.")
            return None
        return events.HOME_GROUP, {"feed": "home"}

    async def join(self, payload: dict[str, Any]) -> None:
        target = await self._target(payload)
        if target is None:
            return
        group, named = target
        if group not in self.subscriptions:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                return await self.send_error("too_many", "Too many subscriptions on one socket.")
            if "room" in named and not await store.aclient().exists(keys.room_key(named["room"])):
                return await self.send_error("no_room", "No such room; it may have expired.")
            await fanout.hub().join(group, self)
            self.subscriptions[group] = named
        await self.send_event("topic:joined", named)

    async def leave(self, payload: dict[str, Any]) -> None:
        target = await self._target(payload)
        if target is None:
            return
        group, named = target
        if self.subscriptions.pop(group, None) is not None:
            await fanout.hub().leave(group, self)
        await self.send_event("topic:left", named)

    async def send_event(self, event: str, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"event": event, "payload": payload}))

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_event("error", {"code": code, "detail": detail})
