"""The suite-wide privacy guard: no client address in Redis or in any log line, and
no capability token (receipt token, audio ticket, access key, verifier) in a log line.

Every test's clients come from known addresses: the Django test client from
``TEST_CLIENT_ADDRESS`` (set in tests/conftest.py), hand-made requests from the
documentation ranges, real servers from loopback. After each test the store is
searched for all of them; every line this process logs and every line a test's
daphne prints is kept, and searched once the suite ends.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import redis
from django.conf import settings

from nullboard import redis_utils

TEST_CLIENT_ADDRESS = "198.51.100.7"  # TEST-NET-2: nothing else in the suite uses it
# The ranges kept for documentation (RFC 5737, RFC 3849): only test clients use them.
DOCUMENTATION_ADDRESSES = ("198.51.100.", "203.0.113.", "192.0.2.", "2001:db8:")
LOOPBACK = "127.0.0.1"
# Loopback is also where every server in the suite listens, so a log line may name
# one ("Error 111 connecting to 127.0.0.1:6379", "('127.0.0.1', 58103)"). Servers
# register their ports here; loopback with any other port, or none, is a client.
SERVER_PORTS: set[int] = {urlsplit(settings.REDIS_URL or "redis://x:6379").port or 6379}
_LOOPBACK = re.compile(r"(?<![\d.])127\.0\.0\.1(?!\.?\d)(?::(\d+)|',\s*(\d+)\))?")


def addresses_in_text(text: str) -> list[str]:
    """The client addresses a log text names."""
    lowered = text.lower()  # IPv6 may be written in capitals
    found = [a for a in DOCUMENTATION_ADDRESSES if a in lowered]
    for match in _LOOPBACK.finditer(text):
        port = match.group(1) or match.group(2)
        if port is None or int(port) not in SERVER_PORTS:
            found.append(LOOPBACK)
            break
    return found


# A capability left in a log line: the segment after /receipt/ or /audio/ in a drop
# path, a key=/verifier=/token=/ticket= value, or an access key in display form.
# nullboard.logging.ScrubCapabilities replaces each with "[scrubbed]".
_CAPABILITIES = re.compile(
    r"/d/[^/\s?#\"']+/(?:receipt|audio)/(?!\[scrubbed\])[^/\s?#\"']+"
    r"|[?#&;](?:key|k|verifier|token|ticket)=(?!\[scrubbed\])[^&\s\"'#]+"
    r"|(?-i:\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3,}\b)",
    re.IGNORECASE,
)


def capabilities_in_text(text: str) -> list[str]:
    """The capability tokens a log text carries."""
    return [match.group(0) for match in _CAPABILITIES.finditer(text)]


def everything_in_redis(conn: redis.Redis | None = None) -> bytes:
    """Every key and every value, decoded as far as Redis types allow (of the
    suite's store, or of ``conn``: one server, such as each master of a cluster)."""
    conn = conn or redis_utils.client()
    out = []
    for name in conn.scan_iter(count=1000):
        out.append(name)
        kind = conn.type(name)
        if kind == b"string":
            out.append(conn.get(name) or b"")
        elif kind == b"hash":
            for field, value in conn.hgetall(name).items():
                out += [field, value]
        elif kind == b"zset":
            out += [member for member, _ in conn.zrange(name, 0, -1, withscores=True)]
        elif kind == b"set":
            out += list(conn.smembers(name))
        elif kind == b"list":
            out += conn.lrange(name, 0, -1)
        out.append(conn.dump(name) or b"")
    return b"\n".join(out)


def addresses_in_store(conn: redis.Redis | None = None) -> list[str]:
    stored = everything_in_redis(conn)
    return [a for a in (*DOCUMENTATION_ADDRESSES, LOOPBACK) if a.encode() in stored]


class LogBook:
    """Every log line written during the suite, with what wrote it."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def add(self, source: str, text: str) -> None:
        self.lines += [(source, line) for line in text.splitlines() if line.strip()]

    def watch(self, handler: logging.Handler, source: str) -> None:
        """Keep each line ``handler`` writes, after its own filters have run."""
        book = self

        class Keep(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                book.add(source, handler.format(record))
                return True

        handler.addFilter(Keep())

    def offenders(self) -> list[str]:
        """Lines naming a client address or carrying a capability token."""
        return [
            f"{source}: {line}"
            for source, line in self.lines
            if addresses_in_text(line) or capabilities_in_text(line)
        ]


LOG_BOOK = LogBook()
