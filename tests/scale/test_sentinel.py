"""Failover through Sentinel: a web process follows Redis to its new master.

A master, its replica and one sentinel, all real redis-server processes; daphne
is given only the sentinel (REDIS_SENTINELS) and the master's name (REDIS_URL).
The master is killed; the same process, not restarted, goes on writing, reading,
opening drops and sending live events through the promoted replica.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

import pytest

from tests.boards.helpers import blob
from tests.boards.wsclient import WsClient, next_post, subscribe
from tests.conftest import DaphneServer, HttpClient, RedisServer
from tests.pow import solve
from tests.reliability.conftest import assert_no_server_error, session_client

MASTER = "nbmaster"


def wait_until(check: Callable[[], object], seconds: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # a server still starting or just stopped
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def master_port(sentinel: RedisServer) -> int:
    return int(sentinel.client().sentinel_get_master_addr_by_name(MASTER)[1])


@pytest.fixture
def cluster(real_redis, tmp_path):
    """(master, replica, sentinel), the replica in sync and known to the sentinel."""
    master = RedisServer().start()
    replica = RedisServer(args=["--replicaof", "127.0.0.1", str(master.port)])
    servers = [master, replica.start()]
    wait_until(
        lambda: replica.client().info("replication")["master_link_status"] == "up",
        what="the replica syncs",
    )
    config = tmp_path / "sentinel.conf"  # a sentinel rewrites its own file
    config.write_text(
        f"sentinel monitor {MASTER} 127.0.0.1 {master.port} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 5000\n"
    )
    sentinel = RedisServer(args=[str(config), "--sentinel"])
    servers.append(sentinel.start())
    wait_until(lambda: sentinel.client().sentinel_slaves(MASTER), what="the sentinel sees it")
    yield master, replica, sentinel
    for server in servers:
        server.stop()


def post(http: HttpClient, path: str, body: dict) -> tuple[int, dict]:
    """Solve a fresh challenge and write; (status, JSON) of whichever step failed."""
    status, _, content = http.post("/api/session")
    if status != 200:
        return status, json.loads(content)
    challenge = json.loads(content)
    work = {
        "pow_challenge": challenge["pow_challenge"],
        "pow_nonce": solve(challenge["pow_challenge"], challenge["pow_difficulty"]),
    }
    status, _, content = http.post(path, {**body, **work})
    return status, json.loads(content)


def write_through(http: HttpClient, path: str, body: dict, seconds: float = 30) -> dict:
    """Write, waiting out the 503s of a failover in progress."""
    deadline = time.monotonic() + seconds
    while True:
        status, data = post(http, path, body)
        if status != 503 or time.monotonic() > deadline:
            assert status == 201, data
            return data
        time.sleep(0.5)


def heard_or_closed(ws: WsClient, wanted: set[str]) -> str:
    """ "heard" once every wanted post arrived, "closed" if the server closed the
    socket first (its page then re-reads the feed). Silence fails the test."""
    ws.sock.settimeout(15)  # the hub notices a broken path within a few heartbeats
    try:
        while wanted:
            wanted.discard(next_post(ws)["id"])
    except ConnectionError:
        return "closed"
    return "heard"


def test_one_web_process_carries_on_through_a_failover(cluster):
    master, replica, sentinel = cluster
    web = DaphneServer(
        env={"REDIS_URL": f"redis://{MASTER}/0", "REDIS_SENTINELS": f"127.0.0.1:{sentinel.port}"}
    ).start()
    sockets: list[WsClient] = []
    try:
        http = session_client(web.url)
        first = write_through(http, "/api/posts", {"topic": "news", "blob": blob()})
        assert master.client().dbsize() > 0  # the data went to the master, found by name
        before = subscribe(web, "news")
        sockets.append(before)
        second = write_through(http, "/api/posts", {"topic": "news", "blob": blob()})
        assert next_post(before) == second
        assert master.client().execute_command("WAIT", 1, 5000) == 1  # on the replica too

        master.stop()  # SIGKILL: the master is gone, not handed over
        wait_until(lambda: master_port(sentinel) == replica.port, 30, "the sentinel promotes")
        assert replica.client().info("replication")["role"] == "master"

        # The same process writes and reads through the promoted replica.
        third = write_through(http, "/api/posts", {"topic": "news", "blob": blob()})
        status, _, content = http.get("/api/posts?topic=news")
        assert status == 200
        ids = [item["id"] for item in json.loads(content)["items"]]
        assert ids == [third["id"], second["id"], first["id"]]
        drop = write_through(http, "/api/drops", {"text": "after the failover"})
        status, _, content = http.post(f"/api/drops/{drop['id']}/open", {"key": drop["keys"][0]})
        assert status == 200 and json.loads(content)["text"] == "after the failover"

        # Live events flow again: a page that (re)connects hears new posts.
        deadline, later = time.monotonic() + 30, []
        while True:
            sockets.append(subscribe(web, "news"))
            later.append(write_through(http, "/api/posts", {"topic": "news", "blob": blob()}))
            if heard_or_closed(sockets[-1], {later[-1]["id"]}) == "heard":
                break
            assert time.monotonic() < deadline, "live events did not come back"

        # A socket open across the failover either heard everything written since,
        # or was closed so that its page re-reads: never open and silently behind.
        heard_or_closed(before, {third["id"], *(p["id"] for p in later)})
    finally:
        for ws in sockets:
            with contextlib.suppress(OSError):  # those the server closed
                ws.close()
        printed = web.stop()
    assert_no_server_error(printed, outage=True)
