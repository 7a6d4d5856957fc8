"""Live sockets against a real daphne on a real (throwaway) Redis: hostile frames,
every way a socket ends, refusals a page can act on, and the Origin check."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import subprocess
import sys
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from boards import events
from nullboard import redis_utils
from nullboard.asgi import application
from nullboard.live import hub as live_hub
from tests.conftest import ROOT, DaphneServer, RedisServer, wait_for_http

from .test_consumer import connect, send

pytestmark = pytest.mark.redis

CRASHING_APP = "tests.boards.asgi_crashing:application"


class Daphne(DaphneServer):
    """A real daphne serving ``app`` (the site's, or the site's with a crash hook)."""

    def __init__(self, app: str, env: dict) -> None:
        super().__init__(env=env)
        self.app = app

    def start(self) -> Daphne:
        cmd = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--verbosity", "0", self.app]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT
        )
        wait_for_http(self.url + "/static/css/site.css")
        return self


@pytest.fixture(scope="module")
def site():
    """A daphne (with the crash hook) alone on a throwaway Redis, so PUBSUB and
    memory figures are its own; each test's clients come from their own
    X-Forwarded-For address, so the per-client cap is 3 but a test can open 200."""
    server = RedisServer().start()
    web = Daphne(
        CRASHING_APP,
        env={
            "REDIS_URL": server.url,
            "REDIS_CLUSTER_NODES": "",  # its own plain server, also in the suite's cluster mode
            "CHANNEL_REDIS_URLS": "",
            "WS_MAX_CONNECTIONS_PER_CLIENT": "3",
            "TRUSTED_PROXY_COUNT": "1",
        },
    ).start()
    web.redis = server
    yield web
    printed = web.stop()
    server.stop()
    # Once the store is stopped, channels_redis logs its own lost connections.
    before_outage = printed[: getattr(web, "outage_at", len(printed))]
    assert no_trace_but_the_hooks(before_outage), before_outage[-3000:]


# The hook's own crashes print a trace (daphne's, not ours); anything else must not.
TRACE_OF_CRASH_HOOK = "RuntimeError: crashed on purpose by the test"


def ws_url(web) -> str:
    return web.url.replace("http://", "ws://") + "/ws/feed/"


def address(n: int) -> str:
    return f"203.0.113.{n % 250 + 1}" if n < 250 else f"192.0.2.{n % 250 + 1}"


async def open_socket(web, client: str, origin: str | None = None):
    from websockets.asyncio.client import connect as ws_connect

    socket_ = await ws_connect(
        ws_url(web),
        origin=origin or web.url,
        additional_headers={"X-Forwarded-For": client},
        open_timeout=20,
        max_size=2**21,
    )
    ready = json.loads(await socket_.recv())
    assert ready["event"] == "session:ready"
    return socket_


async def join(socket_, topic: str) -> None:
    await socket_.send(json.dumps({"event": "topic:join", "payload": {"topic": topic}}))
    while True:
        frame = json.loads(await asyncio.wait_for(socket_.recv(), 20))
        if frame["event"] == "topic:joined":
            return


def hub_channels(web) -> int:
    return len(web.redis.client().pubsub_channels())


def socket_counts(web) -> dict[str, str]:
    conn = web.redis.client()
    return {name: conn.get(name) for name in conn.keys("nb:ws:conn:*")}


def places_taken(web) -> int:
    """Open sockets as the per-client counters count them, over every client."""
    return sum(int(count or 0) for count in socket_counts(web).values())


def memory_but_connections(conn: redis.Redis) -> int:
    """Redis's memory less its client buffers: the web process's connection pool
    grows with concurrency (bounded by REDIS_POOL_SIZE), which is not a leak."""
    conn.memory_purge()
    stats = conn.memory_stats()
    return stats["total.allocated"] - stats["clients.normal"]


def no_trace_but_the_hooks(printed: str) -> bool:
    """Each trace daphne printed is one of the crash hook's, none of the site's own."""
    return printed.count("Traceback (most recent") == printed.count(TRACE_OF_CRASH_HOOK)


def wait_until(check, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def vanish(socket_) -> None:
    """Drop the TCP connection without a close frame (a phone that lost its signal):
    SO_LINGER 0 makes the close a reset."""
    raw = socket_.transport.get_extra_info("socket")
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    socket_.transport.abort()


# --- Hostile frames -------------------------------------------------------------

HOSTILE = [
    "[" * (16 * 1024 - 8),
    '{"event": "topic:join", "payload": {"n": ' + "7" * 5000 + "}}",
    "[1, 2, 3]",
    '{"event": "rooms:everything", "payload": {}}',
    b"\x00\xff" * 1000,
]


async def test_hostile_frames_through_daphne_get_error_frames_on_a_living_socket(site):
    socket_ = await open_socket(site, address(1))
    for frame in HOSTILE:
        await socket_.send(frame)
        answer = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        assert answer["event"] == "error"
        assert set(answer["payload"]) >= {"error", "detail"}
    await join(socket_, "news")  # still open and useful
    await socket_.close()
    assert "1011" not in site.printed()
    assert no_trace_but_the_hooks(site.printed())


# --- Every exit path gives back its groups and its place --------------------------

TOPICS_PER_SOCKET = 4


async def test_crashed_and_vanished_sockets_give_back_groups_places_and_memory(site):
    first = await open_socket(site, address(0))
    await join(first, "warm-up")
    await first.close()
    conn = site.redis.client()
    assert wait_until(lambda: places_taken(site) == 0)
    baseline_channels = hub_channels(site)
    baseline_memory = memory_but_connections(conn)

    async def one(n: int) -> None:
        socket_ = await open_socket(site, address(n))
        for t in range(TOPICS_PER_SOCKET):
            await join(socket_, f"s{n}-t{t}")
        if n % 2:
            await socket_.send("crash")  # the consumer raises: daphne closes with 1011
            with pytest.raises(Exception):  # noqa: B017 - whatever the crash looks like
                while True:
                    await asyncio.wait_for(socket_.recv(), 20)
        else:
            vanish(socket_)

    sockets = 220
    for start in range(0, sockets, 55):
        await asyncio.gather(*(one(n) for n in range(start, min(start + 55, sockets))))
    # While they were open there was one subscription per topic, in this one process.
    assert wait_until(lambda: hub_channels(site) == baseline_channels), (
        hub_channels(site) - baseline_channels,
        "subscriptions left behind",
    )
    assert wait_until(lambda: places_taken(site) == 0), socket_counts(site)
    grown = memory_but_connections(conn) - baseline_memory
    assert grown < 64 * 1024, grown
    # and the site still serves sockets, in full
    again = await open_socket(site, address(7))
    await join(again, "news")
    await again.close()


# --- Refusals a page can act on ----------------------------------------------------


async def test_a_client_over_the_cap_is_accepted_told_and_closed_with_4429(site):
    from websockets.exceptions import ConnectionClosed

    client = address(300)
    held = [await open_socket(site, client) for _ in range(3)]
    from websockets.asyncio.client import connect as ws_connect

    over = await ws_connect(
        ws_url(site), origin=site.url, additional_headers={"X-Forwarded-For": client}
    )
    frame = json.loads(await asyncio.wait_for(over.recv(), 10))
    assert frame["event"] == "error"
    assert frame["payload"]["error"] == "too_many_sockets"
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(over.recv(), 10)
    assert over.close_code == 4429
    await held[0].close()  # a place comes free
    assert wait_until(lambda: "2" in socket_counts(site).values())
    later = await open_socket(site, client)
    for socket_ in [*held[1:], later]:
        await socket_.close()


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:{other}",  # an allowed host on another port
        "https://127.0.0.1:{port}",  # ... or another scheme
        "http://localhost:{port}",  # another allowed host than the one asked
        "null",
        "http://127.0.0.1:{port}.evil.example",
    ],
)
async def test_a_page_of_another_origin_is_refused(site, origin):
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidStatus

    port = int(site.url.rsplit(":", 1)[1])
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(
            ws_url(site),
            origin=origin.format(port=port, other=port + 1),
            additional_headers={"X-Forwarded-For": address(400)},
        )
    assert refused.value.response.status_code in (400, 403)  # autobahn refuses bad ports itself
    # the very same origin is welcome
    welcome = await open_socket(site, address(400), origin=f"http://127.0.0.1:{port}")
    await welcome.close()


async def test_during_a_store_outage_a_socket_is_closed_with_4013(site):
    """Last in the module: it stops the store."""
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import ConnectionClosed

    site.outage_at = len(site.printed())
    site.redis.stop()
    socket_ = await ws_connect(
        ws_url(site), origin=site.url, additional_headers={"X-Forwarded-For": address(500)}
    )
    frame = json.loads(await asyncio.wait_for(socket_.recv(), 20))
    assert frame["payload"]["error"] == "unavailable"
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(socket_.recv(), 20)
    assert socket_.close_code == 4013


# --- Exit paths in process: a cancelled task, a close from the server --------------


def hub_holds(group: str) -> bool:
    return group in live_hub.hub().members


async def test_a_cancelled_socket_task_leaves_its_groups():
    communicator = await connect()
    for topic in ("one", "two"):
        await send(communicator, "topic:join", {"topic": topic})
    assert hub_holds(events.topic_group("one"))
    communicator.future.cancel()
    for _ in range(100):
        if not hub_holds(events.topic_group("one")):
            break
        await asyncio.sleep(0.01)
    assert not hub_holds(events.topic_group("one"))
    assert not hub_holds(events.topic_group("two"))
    assert not hub_holds(events.TRENDING_GROUP)
    assert await redis_utils.aclient().keys("nb:ws:conn:*") == []


async def test_a_socket_closed_by_the_server_in_an_outage_gives_everything_back(monkeypatch):
    hub = live_hub.hub()
    real_join = hub.join

    async def down(group, socket_):
        if group == events.TRENDING_GROUP:
            raise redis.exceptions.ConnectionError("down")
        return await real_join(group, socket_)

    monkeypatch.setattr(hub, "join", down)
    communicator = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    frame = await communicator.receive_json_from()
    assert frame["payload"]["error"] == "unavailable"
    closed = await communicator.receive_output()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4013)
    await communicator.disconnect()
    assert not hub_holds(events.TRENDING_GROUP)
    assert await sync_to_async(redis_utils.client().keys)("nb:ws:conn:*") == []


# --- The same refusal under Hypercorn, which (unlike daphne) sends close reasons ----


class Hypercorn(DaphneServer):
    """The site under Hypercorn, the ASGI server production may run (it passes
    ASGI's close reason on to the client; daphne drops it)."""

    def start(self) -> Hypercorn:
        cmd = [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{self.port}"]
        cmd += ["nullboard.asgi:application"]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT
        )
        wait_for_http(self.url + "/static/css/site.css")
        return self


async def test_under_hypercorn_the_4429_close_carries_its_reason():
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import ConnectionClosed

    web = Hypercorn(env={"WS_MAX_CONNECTIONS_PER_CLIENT": "1"}).start()
    try:
        held = await open_socket(web, address(600))
        over = await ws_connect(ws_url(web), origin=web.url)
        frame = json.loads(await asyncio.wait_for(over.recv(), 10))
        assert frame["payload"]["error"] == "too_many_sockets"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(over.recv(), 10)
        assert over.close_code == 4429
        assert "Too many live connections" in over.close_reason
        await held.close()
    finally:
        web.stop()
