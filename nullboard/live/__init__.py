"""The live layer: events to pages over WebSockets, on Channels' public API.

Two calls make the interface:

- ``publish(groups, event, payload)`` (``apublish`` from async code): services
  call it after a write, whoever made the write (a view, a consumer, a command),
  so every change reaches the live feed the same way. The frame
  ``{"event", "payload"}`` is serialised once, here.
- ``subscribe(group, socket)`` / ``unsubscribe(group, socket)``: a consumer puts
  its socket in a group and takes it out; ``socket`` is anything with the
  consumer's ``direct_send`` (the server's ASGI send) and ``close(code=)``.

How the pieces fit:

- ``sender``: in a web process, events queue on the serving loop (the ASGI
  application is wrapped in ``serve``) and one task per loop sends them with
  ``group_send``, a backlog as one message per group; a command sends before it
  returns. Each message carries its sender's stream id and a number per group.
- ``hub``: each process (per event loop) joins a group on the channel layer once,
  however many of its sockets listen (one Redis subscription per group per
  process with the pub/sub layer), and writes the already serialised frames to
  its local sockets. The fan-out bench (docs/scaling.md) shows both still pay:
  at 500 sockets p99 45 ms against 232 ms with a layer membership per socket, and
  with Channels' plain per-socket ``group_add`` the core layer's 500 blocking
  receives ran out of Redis connections (issue 18's run).
- No silent loss: the hub follows every stream's numbers and sends itself a
  numbered heartbeat through Redis every few seconds. A skipped number, a
  heartbeat that fails, hangs or never comes back closes every local socket
  with ``CLOSE_STORE_LOST`` (4012) and subscribes afresh on the next join.
- Catch-up: every post and comment carries a ``cursor``; a page that got 4012,
  or lost its socket any other way, reconnects and asks the feed API for what
  came ``after=`` the newest cursor it holds (``boards.selectors``,
  ``static/boards/live.js``), so it sees what it missed exactly once.
"""

from __future__ import annotations

from nullboard.live import hub
from nullboard.live.hub import CLOSE_STORE_LOST, Socket
from nullboard.live.sender import apublish, publish, serve

__all__ = [
    "CLOSE_STORE_LOST",
    "Socket",
    "apublish",
    "publish",
    "serve",
    "subscribe",
    "unsubscribe",
]


async def subscribe(group: str, socket: Socket) -> None:
    """Send ``group``'s events to ``socket`` until it unsubscribes or is closed."""
    await hub.hub().join(group, socket)


async def unsubscribe(group: str, socket: Socket) -> None:
    """Stop sending ``group``'s events to ``socket``; a no-op if it was not subscribed."""
    await hub.hub().leave(group, socket)
