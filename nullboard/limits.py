"""ASGI guards in front of Django: request body size and time, and lifespan.

Django reads a whole request body (into memory, then a temporary file) before any
view or middleware runs, and its own limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``) apply
only when a view touches ``request.body`` or ``request.POST``. This guard refuses a
body over ``REQUEST_MAX_BYTES`` before any of it is read when ``Content-Length``
says so, and after at most that many bytes when the body is chunked; a body that
takes longer than ``REQUEST_BODY_TIMEOUT_SECONDS`` gets 408. Under Hypercorn (the
production server, see nullboard/server.py) the body streams with flow control,
so a refused upload never sits in memory.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from django.conf import settings

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ASGIApp(Protocol):
    """An ASGI 3 application this site wraps: Django's handler, Channels' routers
    and middleware, or ours. Each types scope and messages its own way (dicts,
    Mappings, asgiref's TypedDicts), so the wrapper passes them on as they came."""

    def __call__(self, scope: Any, receive: Any, send: Any, /) -> Awaitable[None]: ...


_DISCONNECT: Message = {"type": "http.disconnect"}
# A declared body up to this many times the limit is read and dropped before the
# 413 (for at most DRAIN_SECONDS); a larger one is refused unread and the
# connection closed.
DRAIN_FACTOR = 4
DRAIN_SECONDS = 10


async def send_json_error(send: Send, status: int, code: str, detail: str) -> None:
    """The site's error shape, sent straight over ASGI; the connection then closes
    (the rest of the body is never read)."""
    body = json.dumps({"error": code, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number; -1 when it is not one."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() and len(text) <= 18 else -1
    return None


class BodyLimitMiddleware:
    """Refuse request bodies over ``REQUEST_MAX_BYTES`` (413) or slower than
    ``REQUEST_BODY_TIMEOUT_SECONDS`` (408), in the JSON error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        length = declared_length(scope)
        if length == -1:
            return await send_json_error(send, 400, "bad_request", "Malformed Content-Length.")
        if length is not None and length > limit:
            if length <= limit * DRAIN_FACTOR:
                # Modestly over (a recording a little too long): read and drop the
                # rest first, so a simple client that sends its whole body before
                # reading gets the 413 rather than a broken pipe. Nothing is kept.
                await _drain(receive, DRAIN_SECONDS)
            return await send_json_error(send, 413, "too_large", _too_large(limit))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.REQUEST_BODY_TIMEOUT_SECONDS
        received = 0
        body_done = False
        refusal: tuple[int, str, str] | None = None
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done, refusal
            if body_done or refusal is not None:
                return await receive() if refusal is None else _DISCONNECT
            try:
                async with asyncio.timeout(max(deadline - loop.time(), 0)):
                    message = await receive()
            except TimeoutError:
                refusal = (408, "timeout", "The request body took too long to arrive.")
                return _DISCONNECT  # Django stops reading and answers nothing
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refusal = (413, "too_large", _too_large(limit))
                    return _DISCONNECT
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, guarded_receive, tracking_send)
        if refusal is not None and not started:
            await send_json_error(send, *refusal)


async def _drain(receive: Receive, seconds: float) -> None:
    """Read and discard a request body, for at most ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body"):
                    return
    except TimeoutError:
        return


def _too_large(limit: int) -> str:
    return f"The request body is over {limit} bytes."


def _quiet_cancelled_connections(loop: asyncio.AbstractEventLoop) -> None:
    """Python 3.11's asyncio.streams logs "Exception in callback ... CancelledError"
    with a traceback for every connection still open when a server shuts down (its
    done-callback asks a cancelled task for its exception; fixed in 3.12). That is
    an expected shutdown, not an error: drop it, pass everything else on to the
    server's own handler."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the server's lifespan events (Hypercorn sends them; there is
    nothing to set up that a first request would not)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _quiet_cancelled_connections(asyncio.get_running_loop())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
