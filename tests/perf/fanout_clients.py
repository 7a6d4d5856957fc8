"""WebSocket subscribers for the fan-out benchmark, in their own process.

    python tests/perf/fanout_clients.py URL COUNT TOPIC EXPECT

Opens COUNT sockets to URL's /ws/feed/, joins TOPIC on each, prints ``ready``,
then stamps every ``post:new`` frame with ``time.monotonic()`` (one clock for
every process on a Linux machine) the moment its bytes arrive. When each socket
has EXPECT posts (or after a timeout) it prints ``{post_id: [stamps]}`` as JSON.
Raw asyncio protocols and no JSON parsing before the stamp, so the client adds
as little as it can to what it measures. ``FANOUT_DEFLATE=1`` offers
permessage-deflate, as every browser does, and inflates what comes compressed
(docs/scaling.md, "Live fan-out: where the time goes").
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import sys
import time
import zlib
from urllib.parse import urlsplit

CONNECT_BATCH = 50
TIMEOUT_SECONDS = 60
DEFLATE = os.environ.get("FANOUT_DEFLATE") == "1"
OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"


def masked_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, 0x80 | length) + mask + body
    return struct.pack("!BBH", 0x81, 0x80 | 126, length) + mask + body


class Subscriber(asyncio.Protocol):
    def __init__(self, host: str, origin: str, topic: str, expect: int, done: asyncio.Event):
        self.host, self.origin, self.topic, self.expect = host, origin, topic, expect
        self.buffer = b""
        self.open = False
        self.joined = asyncio.get_running_loop().create_future()
        self.stamps: list[tuple[bytes, float]] = []
        self.done = done
        self.inflate: zlib._Decompress | None = None  # once the server agrees to deflate

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ws/feed/ HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {self.origin}\r\n"
                f"{OFFER if DEFLATE else ''}\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.open:
            if b"\r\n\r\n" not in self.buffer:
                return
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if not head.startswith(b"HTTP/1.1 101"):
                self.joined.set_exception(ConnectionError(head[:200].decode(errors="replace")))
                return
            self.open = True
            if b"permessage-deflate" in head.lower():
                self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            join = {"event": "topic:join", "payload": {"topic": self.topic}}
            self.transport.write(masked_frame(json.dumps(join).encode()))
        while len(self.buffer) >= 2:
            first, second = self.buffer[0], self.buffer[1]
            length, start = second & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                (length,) = struct.unpack("!H", self.buffer[2:4])
                start = 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                (length,) = struct.unpack("!Q", self.buffer[2:10])
                start = 10
            if len(self.buffer) < start + length:
                return
            payload = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            if first & 0x40 and self.inflate is not None:  # RSV1: a compressed message
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            self.frame(first & 0x0F, payload, now)

    def frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode != 0x1:
            return
        if b'"post:new"' in payload:
            self.stamps.append((payload, now))
            if len(self.stamps) >= self.expect:
                self.done.set()
        elif b'"topic:joined"' in payload and not self.joined.done():
            self.joined.set_result(True)

    def connection_lost(self, exc) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("closed"))


async def main(url: str, count: int, topic: str, expect: int) -> None:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    subscribers: list[Subscriber] = []
    for start in range(0, count, CONNECT_BATCH):
        batch = [
            Subscriber(parts.netloc, url, topic, expect, asyncio.Event())
            for _ in range(min(CONNECT_BATCH, count - start))
        ]
        await asyncio.gather(
            *(loop.create_connection(lambda s=s: s, parts.hostname, parts.port) for s in batch)
        )
        await asyncio.wait_for(asyncio.gather(*(s.joined for s in batch)), 30)
        subscribers += batch
    print("ready", flush=True)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(s.done.wait() for s in subscribers)), TIMEOUT_SECONDS
        )
    except TimeoutError:
        pass
    result: dict[str, list[float]] = {}
    for subscriber in subscribers:
        for payload, stamp in subscriber.stamps:
            post_id = json.loads(payload)["payload"]["id"]
            result.setdefault(post_id, []).append(stamp)
        subscriber.transport.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    arguments = (sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    try:
        import uvloop  # the cheaper loop: the subscribers add less to what they measure
    except ImportError:
        asyncio.run(main(*arguments))
    else:
        uvloop.run(main(*arguments))
