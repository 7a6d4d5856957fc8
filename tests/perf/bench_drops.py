"""Drops benchmark against the real Redis (db 10 unless REDIS_URL says otherwise).

Run on demand: ``.venv/bin/python tests/perf/bench_drops.py``. Prints a table:
drops created and opened per second, open p95, Redis bytes per text drop, and
sweep time per 10,000 files. It flushes its Redis db before and after.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="nb-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
# The bench is one client network making thousands of drops: lift its quota.
os.environ.setdefault("DROP_NETWORK_MAX_DROPS", str(10**9))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from drops import keys as drop_keys  # noqa: E402
from drops import media, services  # noqa: E402
from drops.sweep import media_sweep  # noqa: E402
from nullboard import redis_utils  # noqa: E402
from tests.readers import keys_of  # noqa: E402

LINK = "https://nullboard.example/d/"
DROPS = int(os.environ.get("BENCH_DROPS", "500"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
SWEEP_FILES = 10_000


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94]


def bench_create(text: str) -> tuple[float, list[services.CreatedDrop]]:
    def one(_):
        return services.drop_create(
            link_base=LINK, network="bench", ttl_seconds=600, max_views=3, text=text
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(one, range(DROPS)))
    return DROPS / (time.perf_counter() - started), created


def bench_open(created: list[services.CreatedDrop]) -> tuple[float, float, float]:
    jobs = [(drop.id, key) for drop in created for key in drop.keys]

    def one(job):
        started = time.perf_counter()
        services.drop_open_with_key(drop_id=job[0], key=job[1], passphrase="", client="bench")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        latencies = list(pool.map(one, jobs))
    rate = len(jobs) / (time.perf_counter() - started)
    return rate, statistics.median(latencies) * 1000, p95(latencies) * 1000


def bench_http(count: int = 200) -> tuple[float, float, float]:
    """The full stack through Django's test client, one thread: create (with proof
    of work at the test difficulty) and open, per second, and open p95 in ms."""
    from django.test import Client

    from tests.pow import solve

    client = Client()
    started = time.perf_counter()
    made = []
    for _ in range(count):
        session = client.post("/api/session").json()
        body = {
            "text": "z" * 200,
            "pow_challenge": session["pow_challenge"],
            "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
        }
        made.append(client.post("/api/drops", body, content_type="application/json").json())
    create_rate = count / (time.perf_counter() - started)
    latencies = []
    started = time.perf_counter()
    for drop in made:
        for key in drop["keys"]:
            one = time.perf_counter()
            response = client.post(
                f"/api/drops/{drop['id']}/open", {"key": key}, content_type="application/json"
            )
            latencies.append(time.perf_counter() - one)
            assert response.status_code == 200, response.content
    open_rate = len(latencies) / (time.perf_counter() - started)
    return create_rate, open_rate, p95(latencies) * 1000


def redis_bytes(text: str) -> int:
    drop = services.drop_create(
        link_base=LINK, network="bench", ttl_seconds=600, max_views=3, text=text
    )
    conn = redis_utils.client()
    return sum(conn.memory_usage(name, samples=0) or 0 for name in keys_of(drop_id=drop.id))


def bench_sweep() -> tuple[float, float]:
    """Seconds to sweep 10,000 files of expired drops, and 10,000 orphans."""
    conn = redis_utils.client()
    for folder in ("voice", "qr"):
        (settings.MEDIA_ROOT / folder).mkdir(parents=True, exist_ok=True)
    blob = secrets.token_bytes(2048)

    def lay_out(indexed: bool) -> None:
        past = time.time() - 3600
        ids = [secrets.token_urlsafe(12) for _ in range(SWEEP_FILES // 2)]
        for drop_id in ids:
            for name in media.drop_files(drop_id):
                path = settings.MEDIA_ROOT / name
                path.write_bytes(blob)
                os.utime(path, (past, past))
        if indexed:
            conn.zadd(drop_keys.EXPIRY(), {i: past for i in ids})

    timings = []
    for indexed in (True, False):
        lay_out(indexed)
        started = time.perf_counter()
        report = media_sweep(now=time.time(), grace=300)
        timings.append(time.perf_counter() - started)
        assert len(report.removed) == SWEEP_FILES, len(report.removed)
    return timings[0], timings[1]


def main() -> None:
    conn = redis_utils.client()
    conn.flushdb()
    try:
        text = "x" * 200
        create_rate, created = bench_create(text)
        open_rate, open_median, open_p95 = bench_open(created)
        conn.flushdb()
        rows = [
            ("redis", settings.REDIS_URL),
            ("threads", str(THREADS)),
            (f"text drops created / s ({DROPS}, with QR)", f"{create_rate:,.0f}"),
            ("opens / s (3 keys each)", f"{open_rate:,.0f}"),
            ("open latency median / p95", f"{open_median:.2f} ms / {open_p95:.2f} ms"),
        ]
        with override_settings(RATE_LIMIT_MAX_REQUESTS=10**9, ENABLE_RANDOM_DELAYS=False):
            http_create, http_open, http_p95 = bench_http()
        conn.flushdb()
        rows += [
            ("API creates / s (HTTP stack, 1 thread, PoW 1)", f"{http_create:,.0f}"),
            ("API opens / s (HTTP stack, 1 thread)", f"{http_open:,.0f}"),
            ("API open p95", f"{http_p95:.2f} ms"),
        ]
        for size in (100, 1000, 10_000):
            used = redis_bytes("y" * size)
            rows.append(
                (f"Redis bytes per text drop, {size:,} B text", f"{used:,} ({used / size:.1f}x)")
            )
        conn.flushdb()
        indexed, orphans = bench_sweep()
        rows.append(("sweep 10,000 files of expired drops", f"{indexed:.2f} s"))
        rows.append(("sweep 10,000 orphan files (scan)", f"{orphans:.2f} s"))
    finally:
        conn.flushdb()
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
