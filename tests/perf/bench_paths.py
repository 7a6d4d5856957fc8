"""Each hot path's throughput as a ratio to the bare Django view, same server, same run.

    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python tests/perf/bench_paths.py [PATH ...]

(``drop-create`` is a text the server seals, as API programs send it; ``drop-sealed``
one sealed in the browser, as the site's page sends it.)

A quick companion to ``make bench`` (tests/perf/bench_all.py, whose server, client and
seeded feed it reuses): one web process started like the Procfile's, then for each
path ``ROUNDS`` alternating rounds of that path and of the bare view
(``/bench/bare``, tests/perf/asgi_bare.py), each round ``CLIENTS`` keep-alive
Python clients sending ``PER_CLIENT`` requests each. The bare rounds use the same
clients, so the client's own cost is in both; the ratio is the median of the
rounds' path req/s over the bare req/s of the round beside it. The server's own
CPU time per request (from /proc, every thread) is printed beside it: on a shared
machine it moves far less than req/s, and bare CPU over path CPU is the ratio the
server alone would reach. ``--against DIR`` serves another checkout (say, main in
a worktree) beside this one, rounds interleaved, for a before-and-after in one run.
It FLUSHDBs the db of REDIS_URL (db 13 by default) before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_all  # noqa: E402
from bench_all import Daphne, Http, blob  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
PER_CLIENT = int(os.environ.get("BENCH_PER_CLIENT", "40"))
GOALS = {
    "session": 0.8,
    "post": 0.5,
    "drop-create": 0.5,
    "drop-sealed": 0.5,
    "drop-open": 0.7,
    "feed": 0.9,
}

Prepare = Callable[[Http], Any]
Send = Callable[[Http, Any], tuple[int, bytes, float]]


def _drop(client: Http) -> dict[str, Any]:
    status, content, _ = client.request(
        "POST", "/api/drops", {"text": "z" * 100, "ttl_seconds": 300, **client.challenge()}
    )
    assert status == 201, content
    return json.loads(content)


def _sealed_text(client: Http) -> dict[str, Any]:
    """A browser-sealed text's create body (sealed here, as new.js does) and its proof."""
    from drops import sealing

    drop_id = secrets.token_urlsafe(12)
    sealed = sealing.drop_seal(drop_id=drop_id, kind="text", plaintext=b"z" * 100, passphrase="")
    keys = [
        {"verifier": sealing.b64encode(k.verifier), "wrapped": sealing.b64encode(k.wrapped)}
        for k in sealed.keys
    ]
    seal = {"v": 1, "id": drop_id, "salt": sealing.b64encode(sealed.salt), "iterations": 0}
    return {
        "seal": seal | {"keys": keys},
        "ciphertext": sealing.b64encode(sealed.ciphertext),
        **client.challenge(),
    }


PATHS: dict[str, tuple[Prepare, Send]] = {
    "session": (lambda c: None, lambda c, _: c.request("POST", "/api/session", {})),
    "post": (
        lambda c: c.challenge(),
        lambda c, w: c.request("POST", "/api/posts", {"topic": "writes", "blob": blob(), **w}),
    ),
    "drop-create": (
        lambda c: c.challenge(),
        lambda c, w: c.request("POST", "/api/drops", {"text": "z" * 100, **w}),
    ),
    "drop-sealed": (_sealed_text, lambda c, body: c.request("POST", "/api/drops", body)),
    "drop-open": (
        _drop,
        lambda c, d: c.request("POST", f"/api/drops/{d['id']}/open", {"key": d["keys"][0]}),
    ),
    "feed": (
        lambda c: None,
        lambda c, _: c.request("GET", f"/api/posts?topic={bench_all.FEED_TOPIC}"),
    ),
}
BARE: tuple[Prepare, Send] = (lambda c: None, lambda c, _: c.request("GET", "/bench/bare"))


def rate(server: Daphne, path: tuple[Prepare, Send]) -> float:
    """Requests per second of CLIENTS clients sending PER_CLIENT prepared requests each."""
    return timed(server, path)[0]


def timed(server: Daphne, path: tuple[Prepare, Send]) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request) of CLIENTS clients
    sending PER_CLIENT prepared requests each (the preparing is neither timed nor
    counted)."""
    prepare, send = path
    barrier = threading.Barrier(CLIENTS + 1, timeout=300)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            client = Http(server.url).start()
            jobs = [prepare(client) for _ in range(PER_CLIENT)]
            barrier.wait()
            for job in jobs:
                status, content, _ = send(client, job)
                assert status in (200, 201), content[:200]
        except BaseException as exc:  # the main thread raises it
            failures.append(exc)
            barrier.abort()
            raise
        barrier.wait()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
        started, cpu = time.perf_counter(), cpu_seconds(server)
        barrier.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise RuntimeError(f"a client failed: {failures[:1]}") from None
    taken, cpu = time.perf_counter() - started, cpu_seconds(server) - cpu
    for thread in threads:
        thread.join()
    done = CLIENTS * PER_CLIENT
    return done / taken, cpu / done * 1e6


def cpu_seconds(server: Daphne) -> float:
    """The server process's CPU time so far (user + system, every thread)."""
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(root: Path | None) -> Daphne:
    """A web process serving this checkout, or the one at ``root`` (an A/B run)."""
    if root is None:
        return Daphne()
    here, there = (bench_all.ROOT, bench_all.HERE), (root, root / "tests" / "perf")
    bench_all.ROOT, bench_all.HERE = there
    try:
        return Daphne()
    finally:
        bench_all.ROOT, bench_all.HERE = here


def main(names: list[str], against: Path | None) -> None:
    conn = bench_all.redis_utils.client()
    conn.flushdb()
    servers = {"this": start(None)}
    if against is not None:
        servers["other"] = start(against)
    rows = []
    try:
        for server in servers.values():
            bench_all.seed_feed(server)
        for name, path in PATHS.items():
            if names and name not in names:
                continue
            figures: dict[str, dict[str, list[float]]] = {
                label: {"rate": [], "bare": [], "ratio": [], "cpu": [], "bare_cpu": []}
                for label in servers
            }
            for server in servers.values():
                rate(server, path), rate(server, BARE)  # warm both
            for _ in range(ROUNDS):  # A B A B: drift in the machine's load hits all
                for label, server in servers.items():
                    got, cpu = timed(server, path)
                    bare, bare_cpu = timed(server, BARE)
                    for key, value in zip(
                        ("rate", "bare", "ratio", "cpu", "bare_cpu"),
                        (got, bare, got / bare, cpu, bare_cpu),
                        strict=True,
                    ):
                        figures[label][key].append(value)
            rows.append((name, figures))
        for server in servers.values():
            if "Traceback" in server.output():
                raise RuntimeError(server.output())
    finally:
        for server in servers.values():
            server.stop()
        conn.flushdb()
    print(
        f"{'path':<12} {'server':<6} {'req/s':>7} {'bare':>7} {'ratio':>6} {'rounds':<11}"
        f" {'CPU us':>7} {'bare CPU':>8} {'CPU ratio':>9}  goal"
    )
    for name, figures in rows:
        for label, f in figures.items():
            med = {key: statistics.median(values) for key, values in f.items()}
            spread = f"{min(f['ratio']):.2f}-{max(f['ratio']):.2f}"
            print(
                f"{name:<12} {label:<6} {med['rate']:>7.0f} {med['bare']:>7.0f}"
                f" {med['ratio']:>6.2f} {spread:<11} {med['cpu']:>7.0f} {med['bare_cpu']:>8.0f}"
                f" {med['bare_cpu'] / med['cpu']:>9.2f}  >= {GOALS[name]}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help=", ".join(PATHS))
    parser.add_argument("--against", type=Path, help="another checkout, served beside this one")
    args = parser.parse_args()
    main(args.paths, args.against)
