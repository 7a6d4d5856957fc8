"""The live feed: one WebSocket per page, subscribed to topics, rooms or home.

Frames are ``{"event": NAME, "payload": {...}}`` both ways. Bad frames get an
``error`` frame (``{"error": code, "detail": text}``) and the socket stays open;
nothing a client sends can crash it. Group events reach the socket through the
live layer (nullboard.live), which listens on the channel layer once per
process, not once per socket; every way a socket ends gives its groups back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from antispam.websocket import CLOSE_TRY_LATER
from boards import events, keys
from boards.validation import is_room, is_topic
from nullboard import errors, live, metrics, redis_utils
from nullboard.identity import name_from_scope
from nullboard.limits import Send

if TYPE_CHECKING:
    from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
    from channels.consumer import _ChannelScope  # the scope type of Channels' stubs

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
MAX_SUBSCRIPTIONS = 20
MAX_INT_DIGITS = 20  # no field takes a number; a long one is only work for the parser


class FrameError(Exception):
    """A frame the socket answers with an ``error`` frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise FrameError("invalid_number", f"Numbers are limited to {MAX_INT_DIGITS} digits.")
    return int(text)


def frame_parse(text_data: str | None) -> tuple[str, dict[str, Any]]:
    """The ``(event, payload)`` of a client frame, or FrameError. Bounded work for
    any input: size first, then a parse that refuses deep nesting and long numbers."""
    if text_data is None:
        raise FrameError("invalid_frame", "Send JSON text frames.")
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode()) > MAX_FRAME_BYTES:
        raise FrameError("too_large", "Frames are limited to 16 KiB.")
    try:
        frame = json.loads(text_data, parse_int=_bounded_int)
    except RecursionError:
        # The C parser stops at the interpreter's recursion limit; a frame needs two levels.
        raise FrameError("too_deep", "The frame is nested too deeply.") from None
    except ValueError:
        raise FrameError("invalid_json", "The frame is not JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("payload", {}), dict):
        raise FrameError("invalid_frame", "Send {event, payload}.")
    event = frame.get("event")
    return (event if isinstance(event, str) else ""), frame.get("payload") or {}


def _username(scope: Mapping[str, Any]) -> str | None:
    return name_from_scope(scope)  # the session's, else the page's signed name cookie


class FeedConsumer(AsyncWebsocketConsumer):
    # No channel of its own: events reach the socket through the live layer's hub,
    # so a per-socket channel would only add one idle blocking receive per socket
    # (500 of them on the core layer). An alias no layer has gives none.
    channel_layer_alias = "__hub_only__"
    counted = False  # in the live-sockets gauge: from accept until disconnect

    async def __call__(
        self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Run the socket; however it ends (a close from either side, a client gone
        without one, a crash, a cancelled task), leave every group it joined."""
        self.subscriptions: dict[str, dict[str, str]] = {}
        # The hub's way to this socket: the server's send, past the session
        # middleware's wrapper, which does nothing for a websocket.send (live.hub).
        self.direct_send: Send = scope.get(live.hub.DIRECT_SEND) or send  # type: ignore[assignment]
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: a second cancel must not cut the release short, or the hub
            # keeps the group (and its Redis subscription) for a socket that is gone.
            await asyncio.shield(self.release())

    async def connect(self) -> None:
        await self.accept()
        self.counted = True
        metrics.LIVE_SOCKETS.inc()
        try:
            await live.subscribe(events.TRENDING_GROUP, self)
            username = await sync_to_async(_username)(self.scope)
        except redis_utils.OUTAGE_ERRORS:
            metrics.REDIS_ERRORS.inc()
            logger.warning("Redis unreachable: closing a new live socket")
            await self.send_error("unavailable", "The store is unreachable; try again shortly.")
            return await self.close(code=CLOSE_TRY_LATER, reason="store unreachable; retry soon")
        await self.send_event(
            "session:ready", {"username": username, "max_subscriptions": MAX_SUBSCRIPTIONS}
        )

    async def disconnect(self, code: int) -> None:
        if self.counted:
            self.counted = False
            metrics.LIVE_SOCKETS.dec()
        await self.release()

    async def release(self) -> None:
        """Leave the trending group and every subscription; safe to call twice."""
        groups = [events.TRENDING_GROUP, *self.subscriptions]
        self.subscriptions = {}
        for group in groups:
            try:
                await live.unsubscribe(group, self)
            except Exception as error:  # the store may be down: go on with the others
                logger.warning("Live group not left (%s)", type(error).__name__)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            event, payload = frame_parse(text_data)
            handler = {"topic:join": self.join, "topic:leave": self.leave}.get(event)
            if handler is None:
                raise FrameError("unknown_event", "Unknown event.")
            await handler(payload)
        except FrameError as error:
            await self.send_error(error.code, error.detail)
        except redis_utils.OUTAGE_ERRORS:
            metrics.REDIS_ERRORS.inc()
            # No middleware out here: a Redis blip must not kill the socket.
            await self.send_error("unavailable", "The store is unreachable; try again shortly.")
        except Exception:
            # A bug, not the client's doing: keep the trace for us and the socket for them.
            logger.exception("Live frame not handled")
            await self.send_error("server_error", "Something went wrong on our side.")

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
            if "room" in named and not await redis_utils.aclient().exists(
                keys.room_key(named["room"])
            ):
                return await self.send_error("no_room", str(errors.NO_SUCH_ROOM))
            # Noted before the join: a socket cancelled mid-join still leaves it.
            self.subscriptions[group] = named
            try:
                await live.subscribe(group, self)
            except BaseException:
                self.subscriptions.pop(group, None)  # the hub took nothing on a failed join
                raise
        await self.send_event("topic:joined", named)

    async def leave(self, payload: dict[str, Any]) -> None:
        target = await self._target(payload)
        if target is None:
            return
        group, named = target
        if self.subscriptions.pop(group, None) is not None:
            await live.unsubscribe(group, self)
        await self.send_event("topic:left", named)

    async def send_event(self, event: str, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"event": event, "payload": payload}))

    async def send_error(self, code: str, detail: str) -> None:
        # "error" as in the HTTP API's error body; "code" for clients written before.
        await self.send_event("error", {"error": code, "code": code, "detail": detail})
