"""A minimal blocking WebSocket client (RFC 6455) for talking to a real daphne.

Only what the tests need: text frames, client masking, ping replies. The
project has no WebSocket client library, and Channels' communicator cannot
reach another process.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from urllib.parse import urlsplit


class WsClient:
    def __init__(self, base_url: str, path: str = "/ws/feed/", timeout: float = 5.0) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {base_url}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_json(self, data: dict) -> None:
        self._send_frame(0x1, json.dumps(data).encode())

    def receive_json(self) -> dict:
        while True:
            first, second = self._take(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._take(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._take(8))
            payload = self._take(length)
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("closed by server")
            elif opcode == 0x1:
                return json.loads(payload)

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        finally:
            self.sock.close()


def subscribe(server, topic: str) -> WsClient:
    """A socket on ``server`` (anything with a ``url``) joined to ``topic``."""
    ws = WsClient(server.url)
    assert ws.receive_json()["event"] == "session:ready"
    ws.send_json({"event": "topic:join", "payload": {"topic": topic}})
    assert ws.receive_json() == {"event": "topic:joined", "payload": {"topic": topic}}
    return ws


def next_post(ws: WsClient) -> dict:
    """The payload of the next ``post:new`` frame, skipping others."""
    while True:
        frame = ws.receive_json()
        if frame["event"] == "post:new":
            return frame["payload"]
