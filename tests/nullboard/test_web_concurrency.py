"""WEB_CONCURRENCY=2 on the Procfile's web line: two worker processes answer on the
one port, /metrics counts for both, and a live event posted through one worker
reaches a socket held by the other (nullboard/server.py, docs/scaling.md).

Which worker holds a connection is read from the kernel, not from anything the site
says about itself: the connection's socket inode (/proc/net/tcp, by its two ports)
is among exactly one worker's open file descriptors (/proc/PID/fd).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import sys
from pathlib import Path

import pytest

from tests.boards.helpers import blob
from tests.boards.wsclient import WsClient, next_post, subscribe
from tests.conftest import WebServer
from tests.pow import solve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

TOKEN = secrets.token_urlsafe(16)
MAX_TRIES = 60  # connections opened before giving up on reaching both workers


def worker_pids(parent: int) -> list[int]:
    """The serving processes Hypercorn's parent spawned (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server's end of the loopback connection between the ports."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    raise AssertionError(f"no connection :{client_port} -> :{server_port}")


def holder(workers: list[int], server_port: int, client_port: int) -> int:
    """The worker whose descriptors hold the connection from ``client_port``."""
    wanted = f"socket:[{socket_inode(server_port, client_port)}]"
    holders = []
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == wanted:
                    holders.append(pid)
                    break
            except OSError:
                continue
    assert len(holders) == 1, holders
    return holders[0]


class Writer:
    """One keep-alive connection with cookies and CSRF, like a browser's page."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.cookies: dict[str, str] = {}
        self.request("GET", "/")

    @property
    def client_port(self) -> int:
        return self.conn.sock.getsockname()[1]

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json"}
            headers |= {"X-CSRFToken": self.cookies.get("csrftoken", "")}
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def create_post(self, topic: str) -> dict:
        status, content = self.request("POST", "/api/session", {})
        assert status == 200, content
        session = json.loads(content)
        work = {
            "pow_challenge": session["pow_challenge"],
            "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
        }
        status, content = self.request(
            "POST", "/api/posts", {"topic": topic, "blob": blob(), **work}
        )
        assert status == 201, content
        return json.loads(content)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from the exposition text (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if found == labels:
            return float(match.group(2))
    return 0.0


@pytest.fixture
def two_workers(real_redis, tmp_path):
    env = {"WEB_CONCURRENCY": "2", "METRICS_TOKEN": TOKEN}
    server = WebServer(env=env)
    server.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the server makes its own
    server.start()
    yield server
    printed = server.stop()
    assert "Traceback" not in printed, printed


def test_two_workers_share_the_port_count_together_and_carry_live_events_across(two_workers):
    server = two_workers
    workers = worker_pids(server.pid)
    assert len(workers) == 2, workers

    # Connections on the one port land on both workers, and each answers.
    writers: dict[int, Writer] = {}
    health_checks = 0
    for _ in range(MAX_TRIES):
        writer = Writer(server.port)
        status, _ = writer.request("GET", "/healthz")
        assert status == 200
        health_checks += 1
        writers.setdefault(holder(workers, server.port, writer.client_port), writer)
        if len(writers) == 2:
            break
    assert sorted(writers) == workers, "one worker took every connection"

    # Live sockets on both workers, all joined to one topic.
    topic = f"cores-{secrets.token_hex(3)}"
    sockets: dict[int, list[WsClient]] = {pid: [] for pid in workers}
    opened: list[WsClient] = []
    try:
        for _ in range(MAX_TRIES):
            ws = subscribe(server, topic)
            opened.append(ws)
            sockets[holder(workers, server.port, ws.sock.getsockname()[1])].append(ws)
            if all(sockets.values()):
                break
        assert all(sockets.values()), "one worker took every socket"

        # A post made through each worker reaches every socket, the other worker's too.
        for through, writer in writers.items():
            post = writer.create_post(topic)
            for pid, held in sockets.items():
                for ws in held:
                    assert next_post(ws) == post, f"posted via {through}, socket on {pid}"

        # One scrape, whichever worker answers it, counts for both.
        status, body = writers[workers[0]].request("GET", "/metrics")
        assert status == 404  # no token: the endpoint does not announce itself
        writers[workers[0]].conn.request(
            "GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        text = writers[workers[0]].conn.getresponse().read().decode()
        assert metric(text, "nullboard_live_sockets") == len(opened)
        labels = {"route": "healthz", "method": "GET", "status": "200"}
        assert metric(text, "nullboard_http_requests_total", **labels) == health_checks
        # Every socket was sent every post; the sockets are split over the two workers.
        delivered = metric(text, "nullboard_live_events_delivered_total")
        assert delivered >= len(writers) * len(opened)
    finally:
        for ws in opened:
            ws.close()
