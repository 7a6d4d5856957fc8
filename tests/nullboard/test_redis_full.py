"""A full Redis (maxmemory, noeviction) is an outage: JSON 503 on the API, the
friendly page on pages, no 500 anywhere; the site recovers by itself; a proof of
work spent by a write that failed is given back; page views store nothing."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct

import pytest
import redis

from tests.conftest import HttpClient, RedisServer, WebServer
from tests.pow import solve

pytestmark = pytest.mark.redis

MAXMEMORY = ["--maxmemory", "20mb", "--maxmemory-policy", "noeviction"]


def blob() -> str:
    return base64.b64encode(b"\x01" + os.urandom(60)).decode()


def fill(conn: redis.Redis) -> int:
    """Write 100 KB values until Redis refuses; return how many went in."""
    n = 0
    payload = "x" * 100_000
    while True:
        try:
            conn.set(f"filler:{n}", payload)
        except redis.exceptions.OutOfMemoryError:
            break
        n += 1
    # Top up with small values: the edge is reached to within a few hundred bytes.
    try:
        while True:
            conn.set(f"filler:small:{n}", "x" * 200)
            n += 1
    except redis.exceptions.OutOfMemoryError:
        return n


def unfill(conn: redis.Redis) -> None:
    """Free the memory the filler took, leaving the site's own keys."""
    for name in conn.scan_iter("filler:*", count=1000):
        conn.delete(name)


def websocket_answer(url: str, cookies: str = "") -> str:
    """What the live feed's handshake gives: 'http NNN', 'close NNNN', or 'open'
    followed by the name session:ready carries."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/feed/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {url}\r\n"
            + (f"Cookie: {cookies}\r\n" if cookies else "")
            + "\r\n"
        ).encode()
    )
    data = b""
    with sock:
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        if status != 101:
            return f"http {status}"
        data = rest
        while True:
            while len(data) < 2:
                chunk = sock.recv(4096)
                if not chunk:
                    return "closed"
                data += chunk
            opcode, length = data[0] & 0x0F, data[1] & 0x7F
            while len(data) < 2 + length:
                data += sock.recv(4096)
            payload, data = data[2 : 2 + length], data[2 + length :]
            if opcode == 0x8:
                return f"close {struct.unpack('!H', payload[:2])[0]}"
            frame = json.loads(payload) if opcode == 0x1 else {}
            if frame.get("event") == "session:ready":
                return f"open {frame['payload'].get('username')}"


@pytest.fixture
def full_site():
    """A web server on its own 20 MB noeviction Redis."""
    store = RedisServer(args=MAXMEMORY).start()
    web = WebServer(env={"REDIS_URL": store.url, "RATE_LIMIT_MAX_REQUESTS": "10000"}).start()
    yield web, store.client()
    printed = web.stop()
    store.stop()
    assert "Traceback" not in printed


def test_a_full_redis_is_a_503_everywhere_and_recovers_by_itself(full_site):
    web, conn = full_site
    visitor = HttpClient(web.url)
    assert visitor.get("/")[0] == 200
    assert visitor.post("/api/session")[0] == 200
    assert fill(conn) > 0

    status, headers, body = visitor.post("/api/session")
    assert status == 503, body[:300]
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "store_full"
    assert headers["Retry-After"]

    status, _, body = visitor.post("/api/rooms", {"pow_challenge": "0" * 32, "pow_nonce": "1"})
    assert status in (403, 503), body[:300]  # a read says the challenge is unknown: fine
    for path in ("/", "/about", "/drops/new", "/topic/news", "/trending"):
        status, _, body = HttpClient(web.url).get(path)
        assert status in (200, 503), (path, status)
        assert b"Traceback" not in body and b"Server Error" not in body
    # The live feed: 4013 ("try again soon") once the socket is accepted; the
    # handshake itself never fails with a server error.
    answer = websocket_answer(web.url)
    assert answer in ("close 4013", "http 403") or answer.startswith("open"), answer

    conn.flushdb()  # memory back: the same server recovers without a restart
    assert visitor.post("/api/session")[0] == 200
    assert HttpClient(web.url).get("/")[0] == 200
    assert websocket_answer(web.url).startswith("open")


def test_a_write_refused_for_memory_leaves_its_proof_of_work_usable(full_site):
    """Whether Redis refuses the rate-limit count first or the write itself (then
    the challenge is refunded), the client retries with the same solution."""
    web, conn = full_site
    visitor = HttpClient(web.url)
    visitor.get("/")
    status, _, body = visitor.post("/api/session")
    assert status == 200
    issued = json.loads(body)
    nonce = solve(issued["pow_challenge"], issued["pow_difficulty"])
    write = {
        "topic": "news",
        "blob": blob(),
        "pow_challenge": issued["pow_challenge"],
        "pow_nonce": nonce,
    }
    fill(conn)
    failures = 0
    for _ in range(5):  # at the edge a small write may squeeze in; a big one may not
        status, _, body = visitor.post("/api/posts", write)
        if status == 201:
            break
        assert status == 503, body[:300]
        assert json.loads(body)["error"] == "store_full"
        failures += 1
        write["blob"] = blob()
    assert failures >= 1, "the write went through although Redis was full"

    unfill(conn)
    status, _, body = visitor.post("/api/posts", write)
    assert status == 201, body[:300]  # the same challenge, given back
    status, _, body = visitor.post("/api/posts", {**write, "blob": blob()})
    assert status == 403 and json.loads(body)["error"] == "pow_expired"  # spent now


def test_page_views_store_nothing_until_the_first_write():
    """On a Redis of its own (INFO memory is server-wide): 1,000 cookie-less page
    views add no key and no memory; a visitor keeps one name until its first write."""
    own = RedisServer().start()
    web = WebServer(env={"REDIS_URL": own.url}).start()
    conn = own.client()
    try:
        for _ in range(20):  # warm up: script cache, connection pools
            assert HttpClient(web.url).get("/")[0] == 200
        keys, memory = conn.dbsize(), conn.info("memory")["used_memory"]
        for _ in range(1000):
            assert HttpClient(web.url).get("/")[0] == 200
        assert conn.dbsize() == keys == 0
        grown = conn.info("memory")["used_memory"] - memory
        assert grown < 16 * 1024, f"1,000 page views grew Redis by {grown} bytes"

        visitor, names = HttpClient(web.url), set()
        for path in ("/", "/about", "/drops/new"):
            status, _, body = visitor.get(path)
            assert status == 200
            names.add(body.split(b"data-username>", 1)[1].split(b"<", 1)[0])
        assert len(names) == 1 and conn.dbsize() == 0
        # The live feed's handshake creates no session either, and greets the same name.
        cookies = "; ".join(f"{c.name}={c.value}" for c in visitor.jar)
        assert websocket_answer(web.url, cookies) == f"open {next(iter(names)).decode()}"
        assert not [k for k in conn.keys("*") if "session" in k]
        status, _, body = visitor.post("/api/session")
        assert status == 200
        assert json.loads(body)["username"].encode() in names
        assert conn.dbsize() > 0
    finally:
        printed = web.stop()
        own.stop()
    assert "Traceback" not in printed


def test_check_warns_when_redis_may_evict_keys(redis_server):
    from nullboard import checks
    from tests.nullboard.test_settings import manage

    conn = redis_server.client()
    conn.config_set("maxmemory-policy", "allkeys-lru")
    found = checks.redis_eviction_problems(redis.Redis(port=redis_server.port))
    assert [p.id for p in found] == ["nullboard.W002"]
    assert "allkeys-lru" in found[0].msg and "noeviction" in found[0].hint
    result = manage("check", DEBUG="true", REDIS_URL=redis_server.url)
    assert "nullboard.W002" in result.stderr + result.stdout
    assert "deletes keys the site needs" in result.stderr + result.stdout

    conn.config_set("maxmemory-policy", "noeviction")
    assert checks.redis_eviction_problems(redis.Redis(port=redis_server.port)) == []
    result = manage("check", DEBUG="true", REDIS_URL=redis_server.url)
    assert result.returncode == 0 and "no issues" in result.stdout, result.stderr
