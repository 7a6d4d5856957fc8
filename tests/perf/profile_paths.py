"""Python function calls (and CPU) per request on each hot path, in-process.

    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python tests/perf/profile_paths.py \
        [--top N] [--where N] [PATH ...]

Drives the site's ASGI application directly (no server, no sockets but Redis's),
``CONCURRENCY`` requests in flight on uvloop (the server's loop), and counts every
Python call in every thread (``sys.setprofile`` plus ``threading.setprofile``, set
before any worker thread starts), so work a view does in a worker thread counts
too. On a shared, noisy machine the call count is the steadiest figure (a
coroutine's every resumption counts as a call, as it costs one); CPU microseconds
and requests per second, measured in a second pass without the counting hook, are
printed beside it. ``--top N`` prints cProfile's top N functions by own time (the
event-loop thread only), ``--where N`` the N functions called most (every
thread) and the calls per package. The bare row is the bench's middleware-free
view (tests/perf/asgi_bare.py).

It FLUSHDBs the db of REDIS_URL (db 12 by default) before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="nb-prof-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
# As the bench's server: writes unthrottled, proof of work at 1, no random delays.
os.environ.update(
    {
        "ENABLE_RANDOM_DELAYS": "false",
        "RATE_LIMIT_MAX_REQUESTS": str(10**9),
        "POW_DIFFICULTY": "1",
        "POW_MAX_DIFFICULTY": "1",
        "DROP_NETWORK_MAX_DROPS": str(10**9),
        "BENCH_BARE_BODY_FILE": str(Path(os.environ["MEDIA_ROOT"]) / "bare-body.json"),
    }
)
os.environ.setdefault("POW_ADAPTIVE_THRESHOLDS", "120,600")

import django  # noqa: E402
import uvloop  # noqa: E402

django.setup()

from asgi_bare import application  # noqa: E402

from boards import services as board_services  # noqa: E402
from nullboard import redis_utils  # noqa: E402
from tests.pow import solve  # noqa: E402

REQUESTS = 200
CONCURRENCY = 16
TOPIC = "bench"


class Client:
    """A cookie jar and the CSRF header, over the ASGI app in this process."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, cookies: bool = True
    ) -> tuple[int, bytes]:
        raw_path, _, query = path.partition("?")
        headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"profile")]
        data = b""
        if cookies and self.cookies:
            jar = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            headers.append((b"cookie", jar.encode()))
        if body is not None:
            data = json.dumps(body).encode()
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"x-csrftoken", self.cookies.get("csrftoken", "").encode()),
                (b"origin", b"http://127.0.0.1"),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message["headers"]:
                    if name.lower() == b"set-cookie":
                        parsed = SimpleCookie(value.decode())
                        for key, morsel in parsed.items():
                            self.cookies[key] = morsel.value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await application(scope, receive, send)
        return status, b"".join(chunks)

    async def start(self) -> Client:
        await self.request("GET", "/")
        return self

    async def challenge(self) -> dict[str, str]:
        status, content = await self.request("POST", "/api/session", {})
        assert status == 200, content
        data = json.loads(content)
        return {
            "pow_challenge": data["pow_challenge"],
            "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
        }


# --- paths: each returns (prepare, send), run REQUESTS times ----------------------------
Job = Any
Path_ = tuple[Callable[[Client], Any], Callable[[Client, Job], Any]]


async def _ok(coro: Any, statuses: tuple[int, ...] = (200, 201)) -> None:
    status, content = await coro
    assert status in statuses, (status, content[:300])


def paths() -> dict[str, Path_]:
    async def nothing(client: Client) -> None:
        return None

    async def drop(client: Client) -> dict[str, Any]:
        status, content = await client.request(
            "POST",
            "/api/drops",
            {"text": "z" * 100, "ttl_seconds": 300, **(await client.challenge())},
        )
        assert status == 201, content
        return json.loads(content)

    async def sealed(client: Client) -> dict[str, Any]:
        return sealed_text_body() | await client.challenge()

    return {
        "bare": (nothing, lambda c, j: _ok(c.request("GET", "/bench/bare", cookies=False))),
        "feed": (
            nothing,
            lambda c, j: _ok(c.request("GET", f"/api/posts?topic={TOPIC}", cookies=False)),
        ),
        "session": (nothing, lambda c, j: _ok(c.request("POST", "/api/session", {}))),
        "post": (
            lambda c: c.challenge(),
            lambda c, w: _ok(
                c.request("POST", "/api/posts", {"topic": "writes", "blob": BLOB, **w})
            ),
        ),
        "drop-create": (
            lambda c: c.challenge(),
            lambda c, w: _ok(c.request("POST", "/api/drops", {"text": "z" * 100, **w})),
        ),
        "drop-sealed": (sealed, lambda c, body: _ok(c.request("POST", "/api/drops", body))),
        "drop-open": (
            drop,
            lambda c, d: _ok(
                c.request("POST", f"/api/drops/{d['id']}/open", {"key": d["keys"][0]})
            ),
        ),
    }


BLOB = "AQ" + "A" * 398


def sealed_text_body() -> dict[str, Any]:
    """A browser-sealed text's create body (sealed here, as new.js does)."""
    import secrets

    from drops import sealing

    drop_id = secrets.token_urlsafe(12)
    sealed = sealing.drop_seal(drop_id=drop_id, kind="text", plaintext=b"z" * 100, passphrase="")
    keys = [
        {"verifier": sealing.b64encode(k.verifier), "wrapped": sealing.b64encode(k.wrapped)}
        for k in sealed.keys
    ]
    seal = {"v": 1, "id": drop_id, "salt": sealing.b64encode(sealed.salt), "iterations": 0}
    return {"seal": seal | {"keys": keys}, "ciphertext": sealing.b64encode(sealed.ciphertext)}


class Counter:
    """Counts Python function calls in every thread while on (and, with ``where``,
    which functions they were)."""

    def __init__(self) -> None:
        self.calls = 0
        self.on = False
        self.where: collections.Counter[str] | None = None

    def hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" and self.on:
            self.calls += 1
            if self.where is not None:
                code = frame.f_code
                name = code.co_filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
                self.where[f"{name}:{code.co_name}"] += 1

    def install(self) -> None:
        sys.setprofile(self.hook)
        threading.setprofile(self.hook)


async def run_path(
    name: str, path: Path_, counter: Counter, top: int, where: int = 0, counting: bool = True
) -> dict[str, float]:
    prepare, send = path
    clients = [await Client().start() for _ in range(CONCURRENCY)]
    share = REQUESTS // CONCURRENCY
    jobs = [[await prepare(c) for _ in range(share)] for c in clients]
    await send(clients[0], await prepare(clients[0]))  # warm the path

    async def worker(client: Client, mine: list[Job]) -> None:
        for job in mine:
            await send(client, job)

    profiler = cProfile.Profile() if top else None
    if counting:
        counter.install()
    else:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    counter.calls, counter.on = 0, counting
    counter.where = collections.Counter() if where else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        sys.setprofile(None)
        profiler.enable()
    await asyncio.gather(*(worker(c, j) for c, j in zip(clients, jobs, strict=True)))
    if profiler:
        profiler.disable()
        counter.install()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counter.on = False
    done = share * CONCURRENCY
    if counter.where is not None:
        print(f"--- {name}: top {where} functions by calls per request (every thread)")
        for function, count in counter.where.most_common(where):
            print(f"{count / done:8.1f}  {function}")
        packages: collections.Counter[str] = collections.Counter()
        for function, count in counter.where.items():
            packages[function.split("/")[0].split(":")[0].removesuffix(".py")] += count
        print(f"--- {name}: calls per request by package")
        for package, count in packages.most_common(15):
            print(f"{count / done:8.1f}  {package}")
        counter.where = None
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        print(f"--- {name}: top {top} by own time (event-loop thread only)\n{out.getvalue()}")
    return {"calls": counter.calls / done, "cpu_us": cpu / done * 1e6, "req_s": done / wall}


def seed() -> None:
    redis_utils.client().flushdb()
    for _ in range(50):
        board_services.post_create(topic=TOPIC, blob=BLOB, author="bench-owl-1000")


async def main(names: list[str], top: int, where: int) -> None:
    conn = redis_utils.client()
    status, body = await Client().request("GET", f"/api/posts?topic={TOPIC}", cookies=False)
    assert status == 200, body
    Path(os.environ["BENCH_BARE_BODY_FILE"]).write_bytes(body)
    counter = Counter()
    counter.install()
    rows = []
    try:
        for name, path in paths().items():
            if names and name not in names:
                continue
            figures = await run_path(name, path, counter, 0)  # counts (no cProfile)
            timed = await run_path(name, path, counter, 0, counting=False)
            figures["cpu_us"], figures["req_s"] = timed["cpu_us"], timed["req_s"]
            if top or where:
                await run_path(name, path, counter, top, where)
            rows.append((name, figures))
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        conn.flushdb()
    print(f"{'path':<12} {'calls/req':>10} {'CPU us/req':>11} {'req/s':>8}  (in-process, uvloop)")
    for name, f in rows:
        print(f"{name:<12} {f['calls']:>10,.0f} {f['cpu_us']:>11,.0f} {f['req_s']:>8,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--top", type=int, default=0, help="cProfile's top N by own time")
    parser.add_argument("--where", type=int, default=0, help="top N functions by calls")
    args = parser.parse_args()
    seed()
    # The server's loop (nullboard/server.py): the stock loop's own Python would count.
    uvloop.run(main(args.paths, args.top, args.where))
