"""Fixtures for the reliability and security tests: a live server with a
session, Redis key snapshots, and quick writes through the real API."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from nullboard import redis_utils
from tests.conftest import DaphneServer, HttpClient, RedisServer
from tests.pow import solve

# Counters that any request may bump: rate limits and their daily secret, the
# site-wide write rate behind adaptive proof of work, open sockets per client.
VOLATILE_MARKERS = (":rl:", "pow:rate:", ":ws:conn:")


def blob(size: int = 40) -> str:
    """A well-formed post blob: version 1, then random bytes (never decrypted)."""
    return base64.b64encode(b"\x01" + os.urandom(size - 1)).decode()


def redis_snapshot() -> dict[bytes, bytes]:
    """Every key in the store with a dump of its value, minus volatile counters."""
    conn = redis_utils.client()
    found = {}
    for name in conn.scan_iter(count=1000):
        if any(marker.encode() in name for marker in VOLATILE_MARKERS):
            continue
        found[name] = conn.dump(name)
    return found


def session_client(url: str) -> HttpClient:
    """A client with a CSRF cookie (GET /) and an anonymous session."""
    client = HttpClient(url)
    status, _, _ = client.get("/")
    assert status == 200
    return client


def solved(client: HttpClient) -> dict[str, str]:
    """A fresh challenge for ``client``'s session, solved."""
    import json

    status, _, body = client.post("/api/session")
    assert status == 200, body
    data = json.loads(body)
    return {
        "pow_challenge": data["pow_challenge"],
        "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
    }


@pytest.fixture(scope="module")
def web():
    """One daphne for a module, with limits high enough that validation, not the
    rate limiter, answers hostile input."""
    server = DaphneServer(env={"RATE_LIMIT_MAX_REQUESTS": "100000", "POW_DIFFICULTY": "1"}).start()
    yield server
    printed = server.stop()
    assert_no_server_error(printed)


def assert_no_server_error(printed: str, *, outage: bool = False) -> None:
    """No 5xx was logged: Django logs them as 'Internal Server Error', our
    middleware as 'Unhandled error' (and 503s as 'Service Unavailable', which
    only an outage may cause)."""
    markers = ["Internal Server Error", "Unhandled error"]
    if not outage:
        markers.append("Service Unavailable")
    for marker in markers:
        assert marker not in printed, printed[printed.index(marker) - 200 :][:4000]


class DurableRedisServer(RedisServer):
    """A throwaway redis-server that fsyncs every write to an append-only file,
    so a SIGKILL and a restart keep every acknowledged write."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def start(self) -> DurableRedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return self
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


@pytest.fixture
def durable_redis(tmp_path):
    server = DurableRedisServer(tmp_path).start()
    yield server
    server.stop()
