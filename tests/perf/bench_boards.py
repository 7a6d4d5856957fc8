"""Boards benchmark against the real Redis (db 10 unless REDIS_URL says otherwise).

Run on demand: ``.venv/bin/python tests/perf/bench_boards.py``. Prints posts and
comments created per second, feed-page read p50/p95, Redis commands per feed
read and bytes per post. It flushes its Redis db before and after.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from asgiref.sync import sync_to_async  # noqa: E402

from boards import keys, services  # noqa: E402
from nullboard import redis_utils  # noqa: E402
from tests.readers import feed_page  # noqa: E402

POSTS = int(os.environ.get("BENCH_POSTS", "2000"))
READS = int(os.environ.get("BENCH_READS", "500"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
TOPICS = ["general", "news", "science", "sport"]
BLOB = base64.b64encode(b"\x01" + os.urandom(300)).decode()


def timed(fn, count: int) -> tuple[float, list]:
    """Run ``fn(n)`` the way daphne runs a sync view: in a worker thread of a
    running event loop, so the live event goes out on that loop's connection."""

    async def run() -> list:
        gate = asyncio.Semaphore(THREADS)

        async def one(n: int):
            async with gate:
                return await sync_to_async(fn, thread_sensitive=False)(n)

        return await asyncio.gather(*(one(n) for n in range(count)))

    started = time.perf_counter()
    results = asyncio.run(run())
    return count / (time.perf_counter() - started), results


def commands_per_read() -> int:
    conn = redis_utils.client()
    original, calls = conn.execute_command, []

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    conn.execute_command = counting
    try:
        feed_page()
    finally:
        conn.execute_command = original
    return len(calls)


def main() -> None:
    conn = redis_utils.client()
    conn.flushdb()
    try:
        post_rate, posts = timed(
            lambda n: services.post_create(topic=TOPICS[n % 4], blob=BLOB, author="bench-1000"),
            POSTS,
        )
        comment_rate, _ = timed(
            lambda n: services.comment_create(
                post_id=posts[n % len(posts)]["id"], blob=BLOB, author="bench-1001"
            ),
            POSTS,
        )
        cursors = [None]
        page = feed_page()
        while page["next_cursor"] and len(cursors) < 20:
            cursors.append(page["next_cursor"])
            page = feed_page(cursor=page["next_cursor"])
        samples = []
        for n in range(READS):
            started = time.perf_counter()
            feed_page(cursor=cursors[n % len(cursors)])
            samples.append((time.perf_counter() - started) * 1000)
        per_post = conn.memory_usage(keys.post_key(posts[0]["id"]))
        rows = [
            ("posts created / s", f"{post_rate:,.0f}"),
            ("comments created / s", f"{comment_rate:,.0f}"),
            ("feed page p50 ms", f"{statistics.median(samples):.2f}"),
            ("feed page p95 ms", f"{statistics.quantiles(samples, n=100)[94]:.2f}"),
            ("Redis commands per feed read", str(commands_per_read())),
            ("bytes per post hash (300-byte blob)", str(per_post)),
        ]
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value:>10}")
    finally:
        conn.flushdb()


if __name__ == "__main__":
    main()
