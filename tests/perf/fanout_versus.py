"""Live fan-out of two checkouts of the site in one run, each against the floor.

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python tests/perf/fanout_versus.py OTHER_ROOT

Starts one web process from this checkout and one from OTHER_ROOT (say the main
branch's worktree), both like the Procfile's web line on the pub/sub layer, and
the floor (tests/perf/fanout_floor.py). At each size, in alternating rounds
(other, floor, this, floor ...), it measures POST-to-receipt at every socket and
prints each side's p50 / p99 and its p99 as a ratio to the floor of the same
round, the median over the rounds, and each side's slowest delivery as a ratio
to the floor's p99. On a shared machine those latencies swing with whatever else
runs, so it also prints the CPU time each server process spent per delivered
frame while the posts went out (Linux ``/proc``; for the site that includes the
POST itself, its Redis work and the trending announcement, spread over the
sockets), which moves far less. ``BENCH_QUICK=1`` shortens it. FLUSHDBs the db
at REDIS_URL.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_all as bench

ROUNDS = 2 if bench.QUICK else 3


def server(root: Path) -> bench.Daphne:
    here, bench.ROOT = bench.ROOT, root  # the server's cwd and PYTHONPATH
    try:
        return bench.Daphne(CHANNEL_LAYER="pubsub")
    finally:
        bench.ROOT = here


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def site_round(site: bench.Daphne, size: int) -> tuple[list[float], float]:
    """bench.fanout_site, with the server's CPU seconds while the posts went out."""
    topic = f"vs-{size}-{secrets.token_hex(2)}"
    writer = bench.Http(site.url).start()
    works = [writer.challenge() for _ in range(bench.FANOUT_POSTS)]
    clients = bench.subscribers(site.url, size, topic, bench.FANOUT_POSTS)
    try:
        sent: dict[str, float] = {}
        before = cpu_seconds(site.proc.pid)
        for work in works:
            time.sleep(bench.fanout_gap(size))
            started = time.monotonic()
            status, content, _ = writer.request(
                "POST", "/api/posts", {"topic": topic, "blob": bench.blob(), **work}
            )
            assert status == 201, content
            sent[json.loads(content)["id"]] = started
        time.sleep(bench.fanout_gap(size))  # the last fan-out ends
        spent = cpu_seconds(site.proc.pid) - before
        found = bench.latencies(clients, sent)
    finally:
        if clients.poll() is None:
            clients.kill()
    assert len(found) == size * bench.FANOUT_POSTS, "deliveries lost"
    return found, spent


def floor_round(url: str, pid: int, size: int) -> tuple[list[float], float]:
    """bench.fanout_floor, with the floor's CPU seconds over the same span."""
    before = cpu_seconds(pid)
    found, missing = bench.fanout_floor(url, size)
    assert not missing, f"the floor lost {missing} deliveries"
    return found, cpu_seconds(pid) - before


def main(other_root: str) -> None:
    bench.redis_utils.client().flushdb()
    sides = {"other": server(Path(other_root).resolve()), "this": server(bench.ROOT)}
    port = bench.free_port()
    floor = subprocess.Popen(
        [sys.executable, str(bench.HERE / "fanout_floor.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert floor.stdout is not None and floor.stdout.readline().strip() == "ready"
        floor_url = f"http://127.0.0.1:{port}"
        for size in bench.FANOUT_SIZES:
            got: dict[str, list[float]] = {name: [] for name in (*sides, "floor")}
            ratios: dict[str, list[float]] = {name: [] for name in sides}
            slowest: dict[str, list[float]] = {name: [] for name in sides}
            cpu: dict[str, float] = {name: 0.0 for name in (*sides, "floor")}
            for _ in range(ROUNDS):
                for name, site in sides.items():
                    found, spent = site_round(site, size)
                    base, base_spent = floor_round(floor_url, floor.pid, size)
                    cpu[name] += spent
                    cpu["floor"] += base_spent
                    ratios[name].append(bench.p99(found) / bench.p99(base))
                    slowest[name].append(max(found) / bench.p99(base))
                    got[name] += found
                    got["floor"] += base
            for name in (*sides, "floor"):
                values = got[name]
                line = f"{size:5,} sockets {name:5}: p50 {statistics.median(values):6.1f} ms"
                line += f"  p99 {bench.p99(values):6.1f} ms"
                if name in sides:
                    spread = sorted(ratios[name])
                    line += f"  p99/floor {statistics.median(spread):.2f} x"
                    line += f" ({', '.join(f'{r:.2f}' for r in spread)})"
                    line += f"  slowest/floor p99 {max(slowest[name]):.2f} x"
                line += f"  CPU {cpu[name] / len(values) * 1e6:5.1f} us/frame"
                print(line, flush=True)
        for name, site in sides.items():
            if "Traceback" in site.output():
                raise RuntimeError(f"{name}:\n{site.output()}")
    finally:
        for site in sides.values():
            site.stop()
        floor.terminate()
        floor.wait(timeout=10)
        bench.redis_utils.client().flushdb()


if __name__ == "__main__":
    main(sys.argv[1])
