"""What each kind of request costs Redis, and what each post and drop keeps there:
the figures behind docs/scaling.md ("Sizing: one Redis, Sentinel, Cluster").

    .venv/bin/python tests/perf/redis_costs.py [--samples 100]

Starts its own redis-server (tests/servers.py; nothing else is touched) and the
Procfile's web process on it, then runs each kind of request ``--samples`` times
through HTTP. Per request it prints:

- commands: every command Redis ran (``INFO commandstats`` deltas, the commands a
  Lua script calls included) and the round trips among them (``MONITOR`` lines
  from clients, the ``[0 lua]`` lines left out);
- Redis CPU, estimated: round trips × the CPU time of one GET plus the other
  commands × the time a script's command adds, both timed over 20,000 calls first
  (a few hundred requests' own time is lost in Redis's timers on a shared machine);
- bytes: the change of ``MEMORY USAGE`` (SAMPLES 0, exact) over every key, grouped
  by key format (a feed's growth is shared by the posts that grew it; the feeds and
  the sweep index are first filled past their listpack sizes, as on a live site).

Anything that prepares a request (a session, a solved challenge, a post to comment
on) runs before the measured phase starts.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

from tests.servers import RedisServer  # noqa: E402

STORE = RedisServer(die_with_parent=True).start().stop_at_exit()
# Live events on a server of their own: the figures are the data's.
EVENTS = RedisServer(die_with_parent=True).start().stop_at_exit()
os.environ.update(
    {
        "REDIS_URL": STORE.url,
        "CHANNEL_REDIS_URLS": EVENTS.url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="nb-costs-"),
        "POW_DIFFICULTY": "1",
        "ENABLE_RANDOM_DELAYS": "false",
        "RATE_LIMIT_MAX_REQUESTS": str(10**6),
        "DROP_NETWORK_MAX_DROPS": str(10**6),
        "FLAG_QUOTA_PER_NETWORK": str(10**6),
        "TRUSTED_PROXY_COUNT": "1",
    }
)

import django  # noqa: E402

django.setup()

import redis  # noqa: E402

from nullboard.redis_utils import KeyFormat  # noqa: E402
from tests.boards.helpers import blob  # noqa: E402
from tests.conftest import HttpClient, WebServer  # noqa: E402
from tests.pow import solve  # noqa: E402

BLOB_BYTES = 400  # a post's blob as sent and stored (base64 of 300 bytes), as in make bench
COMMENT_BLOB_BYTES = 200


def sized_blob(chars: int) -> str:
    """A well-formed blob of ``chars`` base64 characters (a multiple of 4)."""
    return blob(chars // 4 * 3)


TEXT = "y" * 100  # a text drop's text
STEADY_ENTRIES = 130
Step = Callable[[], object]


def key_formats() -> list[KeyFormat]:
    """Every key format the apps declare (each module builds them at import)."""
    for module in ("boards.keys", "drops.keys", "moderation.keys", "nullboard.keys"):
        __import__(module)
    return [o for o in gc.get_objects() if isinstance(o, KeyFormat)]


FORMATS = key_formats()
_ID = re.compile(r"[0-9A-Za-z_-]{12,}")


def kind_of(name: bytes) -> str:
    for fmt in FORMATS:
        if fmt.matches(name):
            return fmt.template
    text = name.decode(errors="replace")
    if "django.contrib.sessions" in text:
        return "session (Django's cache)"
    return _ID.sub("*", text)  # challenges, rate limits


class Monitor:
    """Round trips from clients (MONITOR lines of db 0 not sent by Lua), by command."""

    def __init__(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", STORE.port))
        self.sock.sendall(b"MONITOR\r\n")
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 10
        while "+OK" not in self.lines[:1]:  # watching from here on
            if time.monotonic() > deadline:
                raise RuntimeError("MONITOR did not start")
            time.sleep(0.01)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *done, buffer = buffer.split(b"\r\n")
            self.lines += [line.decode(errors="replace") for line in done]

    def close(self) -> None:
        self.sock.close()

    def between(self, start: str, end: str) -> Counter[str]:
        deadline = time.monotonic() + 10
        while not any(end in line for line in self.lines):
            if time.monotonic() > deadline:
                raise RuntimeError("MONITOR lost its end marker")
            time.sleep(0.02)
        lines = self.lines
        first = next(i for i, x in enumerate(lines) if start in x)
        last = next(i for i, x in enumerate(lines) if end in x)
        found: Counter[str] = Counter()
        line_re = re.compile(r'^\+?[\d.]+ \[0 (\S+)\] "([^"]+)"')
        for line in lines[first + 1 : last]:
            match = line_re.match(line)
            if match and match.group(1) != "lua":
                found[match.group(2).lower()] += 1
        return found


def memory(conn: redis.Redis) -> dict[bytes, int]:
    return {name: conn.memory_usage(name, samples=0) or 0 for name in conn.scan_iter(count=1000)}


def commandstats(conn: redis.Redis) -> Counter[str]:
    return Counter(
        {
            name.removeprefix("cmdstat_"): int(stat["calls"])
            for name, stat in conn.info("commandstats").items()
        }
    )


def measure(conn: redis.Redis, monitor: Monitor, name: str, steps: list[Step]) -> dict:
    """Run ``steps`` (one request each); per request: commands and bytes by key kind."""
    before_bytes, before_calls = memory(conn), commandstats(conn)
    marker = os.urandom(6).hex()
    conn.echo(f"start-{marker}")
    for step in steps:
        step()
    conn.echo(f"end-{marker}")
    trips = monitor.between(f"start-{marker}", f"end-{marker}")
    calls = commandstats(conn) - before_calls
    for own in ("echo", "info", "memory|usage", "scan", "monitor"):
        calls.pop(own, None)
    after = memory(conn)
    by_kind: Counter[str] = Counter()
    for key in before_bytes.keys() | after.keys():
        by_kind[kind_of(key)] += after.get(key, 0) - before_bytes.get(key, 0)
    n = len(steps)
    return {
        "request": name,
        "round_trips": round(sum(trips.values()) / n, 2),
        "round_trips_by_command": {c: round(k / n, 2) for c, k in trips.most_common()},
        "commands": round(sum(calls.values()) / n, 2),
        "commands_by_name": {c: round(k / n, 2) for c, k in calls.most_common()},
        "bytes": round(sum(by_kind.values()) / n),
        "bytes_by_key": {k: round(v / n) for k, v in sorted(by_kind.items()) if abs(v) >= n},
    }


class Visitor(HttpClient):
    """A client with its own cookies and (through the proxy header) network."""

    count = 0

    def __init__(self, url: str) -> None:
        super().__init__(url)
        Visitor.count += 1
        n = Visitor.count
        self.opener.addheaders = [
            ("X-Forwarded-For", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
        ]
        assert self.get("/")[0] == 200

    def work(self) -> dict[str, str]:
        status, _, body = self.post("/api/session")
        assert status == 200, body
        data = json.loads(body)
        return {
            "pow_challenge": data["pow_challenge"],
            "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
        }

    def ok(self, path: str, body: dict | None = None, status: int = 201) -> dict:
        return ok(self, path, body, status)


def ok(client: HttpClient, path: str, body: dict | None = None, status: int = 201) -> dict:
    got, _, content = client.post(path, body) if body is not None else client.get(path)
    assert got == status, (path, got, content)
    return json.loads(content)


def call(client: HttpClient, path: str, body: dict | None = None, status: int = 201) -> Step:
    return lambda: ok(client, path, body, status)


Factory = Callable[[int], list[Step]]


def phases(url: str) -> list[tuple[str, Factory]]:
    """(name, make): ``make(n)`` prepares n requests of one kind (sessions, challenges,
    posts to comment on, drops to open) and returns them, one step each, unrun."""
    warm = Visitor(url)  # scripts loaded, the topic seen once
    topic_post = warm.ok(
        "/api/posts", {"topic": "news", "blob": sized_blob(BLOB_BYTES), **warm.work()}
    )
    for _ in range(19):
        warm.ok("/api/posts", {"topic": "news", "blob": sized_blob(BLOB_BYTES), **warm.work()})
    # Steady state: the feeds and the sweep index past their listpack sizes (128
    # entries), as on any live site, so each new entry costs what it will.
    for _ in range(STEADY_ENTRIES):
        warm.ok("/api/posts", {"topic": "sizing", "blob": sized_blob(BLOB_BYTES), **warm.work()})
        warm.ok("/api/drops", {"text": TEXT, "ttl_seconds": 3600, **warm.work()})
    room = warm.ok("/api/rooms", warm.work())["room"]
    reader = HttpClient(url)  # no cookie: a cached page's reader

    def reads(path: str) -> Factory:
        return lambda n: [call(reader, path, None, 200) for _ in range(n)]

    def writes(path: str, body: Callable[[], dict], status: int = 201) -> Factory:
        def make(n: int) -> list[Step]:
            writers = [Visitor(url) for _ in range(n)]
            return [call(w, path, {**body(), **w.work()}, status) for w in writers]

        return make

    def sessions(n: int) -> list[Step]:
        visitors = [Visitor(url) for _ in range(n)]
        return [functools.partial(v.post, "/api/session") for v in visitors]

    def opens(n: int) -> list[Step]:
        made = [
            warm.ok("/api/drops", {"text": TEXT, "ttl_seconds": 3600, **warm.work()})
            for _ in range(max(1, n // 3))
        ]
        opener = Visitor(url)
        return [
            call(opener, f"/api/drops/{d['id']}/open", {"key": k}, 200)
            for d in made
            for k in d["keys"]
        ]

    def flags(n: int) -> list[Step]:
        targets = [
            warm.ok(
                "/api/posts", {"topic": "flagged", "blob": sized_blob(BLOB_BYTES), **warm.work()}
            )
            for _ in range(n)
        ]
        flaggers = [Visitor(url) for _ in range(n)]
        return [
            call(
                v, "/api/flags", {"type": "post", "id": t["id"], "reason": "spam", **v.work()}, 202
            )
            for v, t in zip(flaggers, targets, strict=True)
        ]

    return [
        ("page load, new visitor (GET /)", lambda n: [lambda: Visitor(url) for _ in range(n)]),
        ("session + challenge (POST /api/session)", sessions),
        ("topic feed read, 20 posts, no cookie", reads("/api/posts?topic=news")),
        ("home feed read, 20 posts, no cookie", reads("/api/posts")),
        ("post read (GET /api/posts/ID)", reads(f"/api/posts/{topic_post['id']}")),
        (
            f"post create, topic ({BLOB_BYTES} B blob)",
            writes("/api/posts", lambda: {"topic": "sizing", "blob": sized_blob(BLOB_BYTES)}),
        ),
        (
            f"comment create ({COMMENT_BLOB_BYTES} B blob)",
            writes(
                f"/api/posts/{topic_post['id']}/comments",
                lambda: {"blob": sized_blob(COMMENT_BLOB_BYTES)},
            ),
        ),
        ("room create", writes("/api/rooms", dict)),
        (
            f"post create, room ({BLOB_BYTES} B blob)",
            writes("/api/posts", lambda: {"room": room, "blob": sized_blob(BLOB_BYTES)}),
        ),
        (
            f"drop create, text ({len(TEXT)} B), 1 h life",
            writes("/api/drops", lambda: {"text": TEXT, "ttl_seconds": 3600}),
        ),
        ("drop open (each of 3 keys; the 3rd burns)", opens),
        ("flag a post (below the hiding threshold)", flags),
    ]


def cpu_seconds(conn: redis.Redis) -> float:
    info = conn.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def calibrate(conn: redis.Redis, n: int = 20000) -> tuple[float, float]:
    """Redis CPU µs per round trip (a GET) and per command a script calls (an EVALSHA
    of 40 HMGET/ZCOUNT, a feed page's shape): a request's Redis time is about
    trips × the first + script commands × the second. Timed over many calls, because
    the time of a few requests hides in Redis's own timers."""
    conn.set("nb:calibrate", "v")
    conn.hset("nb:calibrate:h", mapping={"a": "x" * 400, "b": "y"})
    conn.zadd("nb:calibrate:z", {f"m{i}": i for i in range(200)})
    sha = conn.script_load(
        "for i = 1, 20 do redis.call('hmget', KEYS[1], 'a', 'b');"
        " redis.call('zcount', KEYS[2], 0, 10) end return 1"
    )
    before = cpu_seconds(conn)
    for _ in range(n):
        conn.get("nb:calibrate")
    trip = (cpu_seconds(conn) - before) * 1e6 / n
    before = cpu_seconds(conn)
    for _ in range(n // 2):
        conn.evalsha(sha, 2, "nb:calibrate:h", "nb:calibrate:z")
    script = (cpu_seconds(conn) - before) * 1e6 / (n // 2)
    conn.delete("nb:calibrate", "nb:calibrate:h", "nb:calibrate:z")
    return trip, max(script - trip, 0.0) / 40


def run(samples: int) -> list[dict]:
    web = WebServer().start()
    conn = redis.Redis(port=STORE.port)
    trip_us, command_us = calibrate(conn)
    print(f"# Redis CPU: {trip_us:.1f} µs a round trip, {command_us:.2f} µs a script command")
    results = []
    try:
        for name, make in phases(web.url):
            monitor = Monitor()
            result = measure(conn, monitor, name, make(samples))
            monitor.close()
            inner = result["commands"] - result["round_trips"]
            estimate = result["round_trips"] * trip_us + inner * command_us
            results.append({**result, "redis_us_estimate": round(estimate)})
            print(json.dumps(results[-1]), flush=True)
    finally:
        printed = web.stop()
        if "Traceback" in printed:
            print(printed, file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    info = redis.Redis(port=STORE.port).info("server")
    print(f"# redis {info['redis_version']}, {args.samples} requests each", flush=True)
    run(args.samples)


if __name__ == "__main__":
    main()
