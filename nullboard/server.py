"""The production server's settings: ``hypercorn --config python:nullboard.server``.

Production runs on Hypercorn, not daphne: Twisted reads a whole request body
(a 200 MB upload took daphne from 77 MB to a 2.4 GB peak) before the ASGI app
sees a byte, and its only idle timeout is 12 hours. Hypercorn hands the body to
the app in chunks through a bounded queue (``max_app_queue_size`` chunks of at
most 64 KiB; reading stops while it is full), so the body guard in
``nullboard.asgi`` refuses an oversized request after reading at most a few
hundred KiB. ``runserver`` keeps daphne. See docs/scaling.md.

``WEB_CONCURRENCY`` (default 1) web processes share the one port: one per core.

Timeouts (seconds, from the environment so an operator can tune them):

- ``SERVER_IDLE_TIMEOUT`` (10): a connection must finish its request headers
  this long after opening, or after its previous response (Hypercorn's idle
  timer runs until the headers are complete): the slow-header defence.
- ``REQUEST_BODY_TIMEOUT_SECONDS`` (nullboard.settings, 60): a whole body must
  arrive within it, or the body guard answers 408 and the connection closes.
- ``SERVER_READ_TIMEOUT`` (unset): optionally, drop a connection whose next read
  waits this long. Unset because a live-feed socket may rightly stay silent;
  the two limits above already bound slow headers and slow bodies.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile

from nullboard.env import envint, envstr

# --- Processes ----------------------------------------------------------------------
# WEB_CONCURRENCY (set by Heroku and Render; default 1) web processes on the one
# port. 1 is a single process with no supervisor beside it. Past 1, Hypercorn's
# parent binds the socket and spawns that many workers that share it (the kernel
# hands each new connection to one of them); nothing else changes, since every
# piece of state is in Redis and live events cross processes through the channel
# layer (docs/scaling.md, "Several web processes").
WEB_CONCURRENCY = envint("WEB_CONCURRENCY", 1, minimum=1)
workers = 0 if WEB_CONCURRENCY == 1 else WEB_CONCURRENCY


def _shared_metrics_dir() -> None:
    """Several workers: /metrics must answer for all of them, so they need one
    PROMETHEUS_MULTIPROC_DIR (nullboard.metrics). Unless the operator gave one, the
    parent makes an empty one before it spawns the workers (they inherit its
    environment) and removes it when it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = tempfile.mkdtemp(prefix="nullboard-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


if workers:
    _shared_metrics_dir()
# uvloop's event loop: feed reads measured about a fifth faster than the stock
# asyncio loop (docs/scaling.md); SERVER_WORKER_CLASS=asyncio falls back to it.
worker_class = envstr("SERVER_WORKER_CLASS", "uvloop")

# --- Timeouts -----------------------------------------------------------------------
keep_alive_timeout = envint("SERVER_IDLE_TIMEOUT", 10, minimum=1)
read_timeout = envint("SERVER_READ_TIMEOUT", 0, minimum=0) or None
# A ping every 20 s, as daphne sent: keeps an idle live-feed socket open through
# proxies and NATs (the browser answers with a pong).
websocket_ping_interval = 20
graceful_timeout = 5
ssl_handshake_timeout = 10

# --- Sizes --------------------------------------------------------------------------
h11_max_incomplete_size = 16 * 1024  # request line plus headers
max_app_queue_size = 8  # body chunks waiting for the app: at most 8 x 64 KiB
# The live feed refuses frames over 16 KiB with an error frame; anything much larger
# is not a frame any page sends, so the server closes (1009) before buffering it.
websocket_max_message_size = 64 * 1024
# permessage-deflate is declined (no setting here: nullboard.no_deflate, from asgi.py).
backlog = envint("SERVER_BACKLOG", 1024, minimum=1)

# --- Logs: no access log (it would carry client addresses and capability URLs) ----
accesslog = None
# The server's own warnings and errors go through the project's handlers (settings
# LOGGING), whose filters strip client addresses and capability tokens.
errorlog = logging.getLogger("hypercorn.error")
errorlog.setLevel(logging.WARNING)
loglevel = "WARNING"
include_server_header = False
