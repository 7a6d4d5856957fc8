"""Soak test: many concurrent clients against one daphne process on real Redis.

Loopback only and bounded. Clients mix feed reads, writes (posts and comments with
the proof of work solved), drop opens and WebSocket subscribers. The run fails on
any 5xx, on an acknowledged write that cannot be read back, on a live event a
connected subscriber missed, or on memory that keeps growing.

    REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python tests/perf/soak.py
    .venv/bin/python tests/perf/soak.py --seconds 10 --clients 50   # a quick one

It flushes the Redis database it is given, so point it at a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

TOPICS = ["soak-a", "soak-b", "soak-c"]


# --- a small keep-alive HTTP client with cookies and CSRF ------------------------------


class Client:
    """One visitor: a persistent connection, its cookies, and the CSRF header."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.origin = f"http://{host}:{port}"
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None):
        """(status, parsed JSON or None, seconds); reconnects once on a dropped socket."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Origin"] = self.origin
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            took = time.perf_counter() - started
            for line in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(line)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            kind = response.headers.get("Content-Type", "")
            parsed = json.loads(raw) if kind.startswith("application/json") and raw else None
            return response.status, parsed, took
        raise RuntimeError("unreachable")


# --- bookkeeping -----------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    posts: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # id->(topic,blob,t)
    comments: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (post, blob)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, status: int, took: float) -> None:
        with self.lock:
            self.latencies.setdefault(name, []).append(took)
            counts = self.statuses.setdefault(name, {})
            counts[status] = counts.get(status, 0) + 1
            if status >= 500:
                self.problems.append(f"{name}: {status}")

    def fail(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def blob() -> str:
    import base64

    return base64.b64encode(b"\x01" + os.urandom(63)).decode()


def pow_fields(client: Client, stats: Stats) -> dict[str, str] | None:
    from tests.pow import solve

    status, data, took = client.request("POST", "/api/session")
    stats.record("session", status, took)
    if status != 200:
        return None
    return {
        "pow_challenge": data["pow_challenge"],
        "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
    }


# --- client roles ----------------------------------------------------------------------


def reader(client: Client, stats: Stats, stop: threading.Event) -> None:
    while not stop.is_set():
        choice = random.random()
        if choice < 0.4:
            status, data, took = client.request("GET", f"/api/posts?topic={random.choice(TOPICS)}")
            stats.record("feed topic", status, took)
            if status == 200 and data["next_cursor"]:
                status, _, took = client.request(
                    "GET", f"/api/posts?topic={TOPICS[0]}&cursor={data['next_cursor']}"
                )
                stats.record("feed page 2", status, took)
        elif choice < 0.6:
            status, _, took = client.request("GET", "/api/posts")
            stats.record("feed home", status, took)
        elif choice < 0.75:
            status, _, took = client.request("GET", "/api/topics/trending")
            stats.record("trending", status, took)
        else:
            with stats.lock:
                known = list(stats.posts)[-200:]
            if not known:
                continue
            post_id = random.choice(known)
            status, _, took = client.request("GET", f"/api/posts/{post_id}")
            stats.record("post", status, took)
            status, _, took = client.request("GET", f"/api/posts/{post_id}/comments")
            stats.record("comments", status, took)


def writer(client: Client, stats: Stats, stop: threading.Event) -> None:
    while not stop.is_set():
        fields = pow_fields(client, stats)
        if fields is None:
            continue
        with stats.lock:
            known = list(stats.posts)[-50:]
        if known and random.random() < 0.4:
            post_id = random.choice(known)
            body = {"blob": blob(), **fields}
            status, data, took = client.request("POST", f"/api/posts/{post_id}/comments", body)
            stats.record("comment create", status, took)
            if status == 201:
                with stats.lock:
                    stats.comments[data["id"]] = (post_id, body["blob"])
            elif status != 429:
                stats.fail(f"comment create answered {status}: {data}")
        else:
            topic = random.choice(TOPICS)
            body = {"topic": topic, "blob": blob(), **fields}
            status, data, took = client.request("POST", "/api/posts", body)
            stats.record("post create", status, took)
            if status == 201:
                with stats.lock:
                    stats.posts[data["id"]] = (topic, body["blob"], time.monotonic())
            elif status != 429:
                stats.fail(f"post create answered {status}: {data}")


def opener(client: Client, stats: Stats, stop: threading.Event) -> None:
    while not stop.is_set():
        fields = pow_fields(client, stats)
        if fields is None:
            continue
        text = f"soak {random.random()}"
        status, data, took = client.request(
            "POST", "/api/drops", {"text": text, "ttl_seconds": 300, **fields}
        )
        stats.record("drop create", status, took)
        if status != 201:
            if status != 429:
                stats.fail(f"drop create answered {status}: {data}")
            continue
        for left, key in zip((2, 1, 0), data["keys"], strict=True):
            status, opened, took = client.request(
                "POST", f"/api/drops/{data['id']}/open", {"key": key}
            )
            stats.record("drop open", status, took)
            if status != 200 or opened["text"] != text or opened["views_left"] != left:
                stats.fail(f"drop open answered {status}: {opened}")
        status, _, took = client.request(
            "POST", f"/api/drops/{data['id']}/open", {"key": data["keys"][0]}
        )
        stats.record("drop open (gone)", status, took)
        if status != 410:
            stats.fail(f"a burned drop answered {status}")


@dataclass
class Subscriber:
    joined_at: float = 0.0
    left_at: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)  # post id -> when it arrived
    dropped: bool = False


async def subscribe(url: str, origin: str, sub: Subscriber, stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url, origin=origin, open_timeout=60) as socket:
        assert json.loads(await socket.recv())["event"] == "session:ready"
        for topic in TOPICS:
            await socket.send(json.dumps({"event": "topic:join", "payload": {"topic": topic}}))
        joined = 0
        while joined < len(TOPICS):
            if json.loads(await socket.recv())["event"] == "topic:joined":
                joined += 1
        sub.joined_at = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                except TimeoutError:
                    continue
                if frame["event"] == "post:new":
                    sub.seen[frame["payload"]["id"]] = time.monotonic()
        except websockets.ConnectionClosed:
            sub.dropped = True
        sub.left_at = time.monotonic()


def run_subscribers(url: str, origin: str, subs: list[Subscriber], stop_flag, ready) -> None:
    async def main():
        stop = asyncio.Event()

        async def watch():
            while not stop_flag.is_set():
                await asyncio.sleep(0.1)
            stop.set()

        tasks = [asyncio.create_task(subscribe(url, origin, s, stop)) for s in subs]
        watcher = asyncio.create_task(watch())
        while any(s.joined_at == 0 for s in subs) and not all(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        ready.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await watcher
        for sub, result in zip(subs, results, strict=True):
            if isinstance(result, BaseException):
                sub.dropped = True

    asyncio.run(main())


# --- the run ----------------------------------------------------------------------------


def proc_status(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    return proc_status(pid, "VmRSS")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def soak(
    seconds: float = 60, clients: int = 200, quiet: bool = False, only: str | None = None
) -> dict:
    """Run the soak; return its figures (``problems`` empty when it passed)."""
    import django

    django.setup()
    from django.conf import settings

    from nullboard import redis_utils
    from tests.conftest import DaphneServer

    if redis_utils.is_embedded():
        raise SystemExit("the soak needs a real Redis: set REDIS_URL")
    redis_utils.client().flushdb()
    web = DaphneServer(
        env={
            "REDIS_URL": settings.REDIS_URL,
            "POW_DIFFICULTY": "1",
            "POW_ADAPTIVE_THRESHOLDS": "1000000000",
            "RATE_LIMIT_MAX_REQUESTS": "100000000",
        }
    ).start()
    stats, stop, ready = Stats(), threading.Event(), threading.Event()
    sub_stop = threading.Event()
    host, port = "127.0.0.1", web.port
    n_subs = clients // 4
    n_writers = clients * 3 // 20
    n_openers = clients // 10
    n_readers = clients - n_subs - n_writers - n_openers
    if only:  # one role alone, to tell which traffic a figure comes from
        n_readers, n_writers, n_openers, n_subs = (
            clients if only == role else 0
            for role in ("readers", "writers", "openers", "subscribers")
        )
    subs = [Subscriber() for _ in range(n_subs)]
    ws_url = f"ws://{host}:{port}/ws/feed/"
    rss: list[tuple[float, int]] = []
    clients_seen: list[int] = []
    threads_seen: list[int] = []
    started = time.monotonic()
    try:
        sub_thread = threading.Thread(
            target=run_subscribers, args=(ws_url, web.url, subs, sub_stop, ready), daemon=True
        )
        sub_thread.start()
        if subs:
            ready.wait(60)
        rss.append((0.0, rss_kib(web.proc.pid)))
        threads = []
        for role, count in ((reader, n_readers), (writer, n_writers), (opener, n_openers)):
            for _ in range(count):
                client = Client(host, port)
                status, _, _ = client.request("GET", "/")
                assert status == 200
                thread = threading.Thread(target=role, args=(client, stats, stop), daemon=True)
                threads.append(thread)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() - started < seconds:
            time.sleep(min(5.0, max(seconds / 12, 0.5)))
            rss.append((time.monotonic() - started, rss_kib(web.proc.pid)))
            clients_seen.append(redis_utils.client().info("clients")["connected_clients"])
            threads_seen.append(proc_status(web.proc.pid, "Threads"))
        writes_end = time.monotonic()
        stop.set()  # HTTP clients stop; subscribers listen on for stragglers
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
        time.sleep(2.0)
        sub_stop.set()
        sub_thread.join(timeout=30)
        rss.append((time.monotonic() - started, rss_kib(web.proc.pid)))

        # Every acknowledged write reads back.
        check = Client(host, port)
        check.request("GET", "/")
        for post_id, (_topic, text, _) in list(stats.posts.items()):
            status, data, _ = check.request("GET", f"/api/posts/{post_id}")
            if status != 200 or data["blob"] != text:
                stats.fail(f"acknowledged post {post_id} reads {status}")
        by_post: dict[str, set[str]] = {}
        for comment_id, (post_id, _) in stats.comments.items():
            by_post.setdefault(post_id, set()).add(comment_id)
        for post_id, wanted in by_post.items():
            status, data, _ = check.request("GET", f"/api/posts/{post_id}/comments")
            listed = {c["id"] for c in data["items"]} if status == 200 else set()
            if not wanted <= listed:
                stats.fail(f"{len(wanted - listed)} acknowledged comments on {post_id} missing")
        # Every subscriber connected for the whole run saw every post made meanwhile.
        # The lag runs from the writer's acknowledgement, so an event that beat the
        # HTTP answer to the subscriber counts as 0.
        lost, lags = 0, []
        for sub in subs:
            if sub.dropped:
                stats.fail("a subscriber was disconnected")
                continue
            for post_id, (_t, _b, made_at) in stats.posts.items():
                if sub.joined_at < made_at <= writes_end:
                    if post_id in sub.seen:
                        lags.append(max(0.0, sub.seen[post_id] - made_at))
                    else:
                        lost += 1
        if lost:
            stats.fail(f"{lost} live events lost across subscribers")
    finally:
        stop.set()
        sub_stop.set()
        printed = web.stop()
    for marker in ("Internal Server Error", "Unhandled error", "Traceback"):
        if marker in printed:
            stats.fail(f"server log: {marker}")
    server_notes: dict[str, int] = {}
    for line in printed.splitlines():
        if line.startswith(("Redis unreachable", "Live event")):
            server_notes[line] = server_notes.get(line, 0) + 1
    # Start after a warm-up sample; "flat" allows caches to fill, not steady growth.
    rss_start = rss[1][1] if len(rss) > 2 else rss[0][1]
    growth = rss[-1][1] - rss_start
    if growth > max(64 * 1024, rss_start // 2):
        stats.fail(f"web process memory grew by {growth // 1024} MiB")
    figures = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "roles": {
            "readers": n_readers,
            "writers": n_writers,
            "drop openers": n_openers,
            "subscribers": n_subs,
        },
        "rss_kib": rss,
        "rss_start_kib": rss_start,
        "rss_end_kib": rss[-1][1],
        "posts": len(stats.posts),
        "comments": len(stats.comments),
        "events_expected": sum(
            1 for s in subs for (_t, _b, m) in stats.posts.values() if s.joined_at < m
        ),
        "events_lost": lost,
        "event_lag": lags,
        "redis_clients": clients_seen,
        "threads": threads_seen,
        "server_notes": server_notes,
        "stats": stats,
        "problems": stats.problems,
    }
    if not quiet:
        print_table(figures)
    return figures


def print_table(figures: dict) -> None:
    stats: Stats = figures["stats"]
    total = sum(len(v) for v in stats.latencies.values())
    print(f"\nSoak: {figures['clients']} clients for {figures['seconds']} s {figures['roles']}")
    header = f"{'operation':<18}{'count':>8}{'req/s':>8}{'2xx':>8}{'4xx':>6}{'5xx':>6}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        counts = stats.statuses[name]
        ok = sum(c for s, c in counts.items() if s < 300)
        client_errors = sum(c for s, c in counts.items() if 400 <= s < 500)
        server_errors = sum(c for s, c in counts.items() if s >= 500)
        print(
            f"{name:<18}{len(values):>8}{len(values) / figures['seconds']:>8.1f}{ok:>8}"
            f"{client_errors:>6}{server_errors:>6}"
            f"{statistics.median(values) * 1000:>9.1f}"
            f"{percentile(values, 0.95) * 1000:>9.1f}{percentile(values, 0.99) * 1000:>9.1f}"
        )
    print(f"{'all':<18}{total:>8}{total / figures['seconds']:>8.1f}")
    print(
        f"acknowledged: {figures['posts']} posts, {figures['comments']} comments; "
        f"live events expected {figures['events_expected']}, lost {figures['events_lost']}"
    )
    if figures["event_lag"]:
        lags = figures["event_lag"]
        print(
            f"live event lag after the write's answer: p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )
    samples = ", ".join(f"{t:.0f}s {kib / 1024:.1f}" for t, kib in figures["rss_kib"])
    print(f"web process RSS (MiB): {samples}")
    print(
        f"RSS start {figures['rss_start_kib'] / 1024:.1f} MiB, "
        f"end {figures['rss_end_kib'] / 1024:.1f} MiB"
    )
    print(f"Redis connected clients (whole server): {figures['redis_clients']}")
    print(f"web process threads: {figures['threads']}")
    for line, count in figures["server_notes"].items():
        print(f"server log x{count}: {line}")
    print("PASS" if not figures["problems"] else f"FAIL: {figures['problems'][:10]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--only", choices=["readers", "writers", "openers", "subscribers"])
    args = parser.parse_args()
    figures = soak(seconds=args.seconds, clients=args.clients, only=args.only)
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
