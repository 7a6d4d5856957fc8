"""The production web process (the Procfile's line) against one-request attacks:
a 200 MB upload, a chunked one, malformed multipart, a slow body and slow headers;
and a WebSocket offering deflate, which it declines. Loopback only, every attack
bounded in bytes and time."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import HttpClient, WebServer

pytestmark = pytest.mark.redis

BIG = 200 * 1024 * 1024
CHUNK = 64 * 1024
PEAK_GROWTH_LIMIT = 16 * 1024 * 1024
HEADER_TIMEOUT = 2  # the servers below run with SERVER_IDLE_TIMEOUT=2
BODY_TIMEOUT = 2


def memory(pid: int) -> dict[str, int]:
    """VmHWM (peak) and VmRSS of ``pid``, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) * 1024
    return found


@pytest.fixture(scope="module")
def server():
    web = WebServer(
        env={
            "SERVER_IDLE_TIMEOUT": str(HEADER_TIMEOUT),
            "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        }
    ).start()
    client = HttpClient(web.url)
    for _ in range(3):  # warm up: imports, templates, the first session
        assert client.get("/")[0] == 200
        assert client.post("/api/session")[0] == 200
    yield web
    web.stop()


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Status, headers and body of one HTTP/1.1 response (closed or sized)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return status, headers, body


def multipart_body(total: int) -> Iterator[bytes]:
    """A ``total``-byte multipart upload, made on the fly (never held whole)."""
    head = (
        b'--b0undary\r\nContent-Disposition: form-data; name="audio"; filename="a.webm"\r\n'
        b"Content-Type: audio/webm\r\n\r\n"
    )
    tail = b"\r\n--b0undary--\r\n"
    yield head
    left = total - len(head) - len(tail)
    filler = b"\x1a" * CHUNK
    while left > 0:
        yield filler[: min(CHUNK, left)]
        left -= CHUNK
    yield tail


def post_streamed(url: str, path: str, chunks: Iterator[bytes], *, length: int | None):
    """Send a POST whose body comes from ``chunks``, stopping as soon as the server
    answers or closes; return (status, body, bytes of body sent, seconds)."""
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: multipart/form-data; boundary=b0undary",
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
    ]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    started = time.monotonic()
    with sock:
        try:
            for chunk in chunks:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered (or closed): stop sending
                frame = chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                sock.sendall(frame)
                sent += len(chunk)
                if time.monotonic() - started > 60:
                    raise AssertionError("the server read 60 s of upload without answering")
            else:
                if length is None:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # it closed while we sent: its answer is already on the way
        status, _, body = read_response(sock)
    return status, body, sent, time.monotonic() - started


def assert_json_error(status: int, body: bytes, expected: int, code: str) -> None:
    assert status == expected, (status, body[:200])
    data = json.loads(body)
    assert data["error"] == code and data["detail"]


@pytest.mark.parametrize("path", ["/api/drops", "/no-such-page"])
def test_a_200_mb_upload_is_refused_before_it_is_read(server, path):
    before = memory(server.pid)
    status, body, sent, _ = post_streamed(server.url, path, multipart_body(BIG), length=BIG)
    after = memory(server.pid)
    assert_json_error(status, body, 413, "too_large")
    assert sent < 16 * 1024 * 1024, f"the server took {sent} bytes before refusing"
    growth = after["VmHWM"] - before["VmHWM"]
    assert growth < PEAK_GROWTH_LIMIT, f"peak memory grew by {growth / 2**20:.1f} MB"


def test_a_chunked_200_mb_upload_is_cut_off_at_the_limit(server):
    before = memory(server.pid)
    status, body, sent, _ = post_streamed(
        server.url, "/api/drops", multipart_body(BIG), length=None
    )
    after = memory(server.pid)
    assert_json_error(status, body, 413, "too_large")
    # Past the limit, plus what loopback socket buffers hold (a few MB), never more.
    assert settings.REQUEST_MAX_BYTES < sent < 16 * 1024 * 1024
    growth = after["VmHWM"] - before["VmHWM"]
    assert growth < PEAK_GROWTH_LIMIT, f"peak memory grew by {growth / 2**20:.1f} MB"


def test_an_upload_at_the_limit_still_reaches_the_view(server):
    """The guard refuses only what no legitimate request sends: a body of exactly
    the limit is read, and the drop view answers it (here: no session, 403)."""
    size = settings.REQUEST_MAX_BYTES
    status, body, sent, _ = post_streamed(
        server.url, "/api/drops", multipart_body(size), length=size
    )
    assert sent == size
    assert status == 403, body[:200]  # CSRF: the guard let it through to Django


def test_malformed_multipart_gets_the_json_error_shape(server):
    client = HttpClient(server.url)
    client.get("/")
    port = server.port
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = b"--nope\r\nthis is not multipart at all"
    head = (
        f"POST /api/drops HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=\r\n"
        f"X-CSRFToken: {client.csrf()}\r\nOrigin: {server.url}\r\n"
        f"Cookie: csrftoken={client.csrf()}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with sock:
        sock.sendall(head.encode() + body)
        status, headers, answer = read_response(sock)
    assert 400 <= status < 500 and headers["content-type"] == "application/json", answer
    assert set(json.loads(answer)) == {"error", "detail"}


def test_a_body_that_never_finishes_gets_408(server):
    port = server.port
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    with sock:
        sock.sendall(
            f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
        )
        for _ in range(int(BODY_TIMEOUT * 4)):  # a byte every half second: never idle
            if select.select([sock], [], [], 0.5)[0]:
                break
            sock.sendall(b" ")
        status, _, body = read_response(sock)
    assert_json_error(status, body, 408, "timeout")
    assert time.monotonic() - started < BODY_TIMEOUT + 2


def test_slow_headers_are_dropped_and_others_are_served_meanwhile(server):
    """50 connections that never finish their headers are closed after the header
    timeout, while a normal client is served as usual."""
    port = server.port
    slow = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode())
        slow.append(sock)
    stop = threading.Event()

    def trickle() -> None:  # one byte per connection per 0.5 s, as slowloris does
        while not stop.wait(0.5):
            for sock in slow:
                try:
                    sock.send(b"a")
                except OSError:
                    pass

    worker = threading.Thread(target=trickle, daemon=True)
    worker.start()
    try:
        client = HttpClient(server.url)
        started = time.monotonic()
        assert client.get("/about")[0] == 200  # served meanwhile
        assert time.monotonic() - started < HEADER_TIMEOUT
        closed = 0
        for sock in slow:  # each recv ends when the server drops the connection
            sock.settimeout(HEADER_TIMEOUT + 10)
            try:
                closed += sock.recv(1024) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == len(slow), f"only {closed} of {len(slow)} slow connections were dropped"
        assert client.get("/about")[0] == 200
    finally:
        stop.set()
        worker.join()
        for sock in slow:
            sock.close()


def test_a_websocket_offering_deflate_gets_plain_frames(server):
    """Browsers offer permessage-deflate; Hypercorn would compress every frame once per
    socket (nullboard.no_deflate), so the handshake declines it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /ws/feed/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                f"Origin: {server.url}\r\n\r\n"
            ).encode()
        )
        status, headers, rest = read_response(sock)
        assert status == 101
        assert "sec-websocket-extensions" not in headers
        data = rest
        while b"session:ready" not in data:  # after Hypercorn's first ping
            data += sock.recv(65536)
    frames = []
    while data:  # server frames: unmasked, and these are short
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4], "big"), 4
        frames.append((data[0], data[start : start + length]))
        data = data[start + length :]
    assert all(first & 0x40 == 0 for first, _ in frames)  # RSV1, "deflated", never set
    assert any(first == 0x81 and b'"session:ready"' in body for first, body in frames)
