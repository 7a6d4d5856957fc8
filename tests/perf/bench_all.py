"""Every Nullboard benchmark in one table, each figure beside its reference.

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python tests/perf/bench_all.py

Runs against the real Redis at REDIS_URL (db 10 by default; it FLUSHDBs that db
before and after, never anything else) and real daphne processes started like
the Procfile's web line, serving tests/perf/asgi_bare.py: the site plus a bare,
middleware-free async view that answers the feed page's bytes (the ceiling).
Load comes from ``wrk`` (installed with apt-get when possible, else that row is
skipped with a message) and from client threads and processes beside daphne.
The machine is shared and noisy, so paired figures are measured in alternating
rounds in the same run. ``BENCH_QUICK=1`` shortens every phase.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="nb-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DROP_NETWORK_MAX_DROPS", str(10**9))  # the bench is one network

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from boards import keys as board_keys  # noqa: E402
from boards import services as board_services  # noqa: E402
from drops import keys as drop_keys  # noqa: E402
from drops import services as drop_services  # noqa: E402
from nullboard import redis_utils  # noqa: E402
from tests.pow import solve  # noqa: E402
from tests.readers import keys_of  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
ROUNDS = 2 if QUICK else 6
WRK_SECONDS = 2 if QUICK else 3
WRK_CONNECTIONS = 16
WRITERS = 4  # client threads for the write benchmarks
WRITES = 100 if QUICK else 300
FANOUT_SIZES = (1, 100, 500)
FANOUT_POSTS = 10 if QUICK else 20
FEED_TOPIC = "bench"
FEED_POSTS = 50
MEMORY_SAMPLES = 200
DROP_TEXT_BYTES = 100
LINK = "https://nullboard.example/d/"

# The daphne under test: writes unthrottled (the limits are per client and the
# bench is one client), proof of work at 1 (the browser's cost, not the server's),
# and no random delays (they are up to 250 ms by design and would be all we saw).
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "tests.settings",
    "PYTHONPATH": str(ROOT),
    "ENABLE_RANDOM_DELAYS": "false",
    "RATE_LIMIT_MAX_REQUESTS": str(10**9),
    "POW_DIFFICULTY": "1",
    "POW_MAX_DIFFICULTY": "1",
    "POW_ADAPTIVE_THRESHOLDS": str(10**9),
    "WS_MAX_CONNECTIONS_PER_CLIENT": "100000",
    "DROP_NETWORK_MAX_DROPS": str(10**9),  # one client network makes every drop here
    "BENCH_BARE_BODY_FILE": str(Path(settings.MEDIA_ROOT) / "bare-body.json"),
}


# --- processes -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    """One web process, started like the Procfile's web line (Hypercorn since the
    hardening of issue 16; ``BENCH_SERVER=daphne`` measures the old daphne line)."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if os.environ.get("BENCH_SERVER") == "daphne":
            argv = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1"]
            argv += ["--port", str(self.port), "--verbosity", "0", "--access-log", "/dev/null"]
        else:
            argv = [sys.executable, "-m", "hypercorn", "--config", "python:nullboard.server"]
            argv += ["--bind", f"127.0.0.1:{self.port}"]
        argv += ["asgi_bare:application"]
        self.log = tempfile.TemporaryFile()
        environ = {**os.environ, **SERVER_ENV, **env}
        environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{HERE}"
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"daphne did not start:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Http:
    """A keep-alive JSON client with cookies and the CSRF header, like a browser."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        """(status, body bytes, seconds taken)."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        content = response.read()
        taken = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        return response.status, content, taken

    def start(self) -> Http:
        self.request("GET", "/")
        return self

    def challenge(self) -> dict:
        status, content, _ = self.request("POST", "/api/session", {})
        assert status == 200, content
        data = json.loads(content)
        nonce = solve(data["pow_challenge"], data["pow_difficulty"])
        return {"pow_challenge": data["pow_challenge"], "pow_nonce": nonce}


def blob(size: int = 300) -> str:
    import base64

    return base64.b64encode(b"\x01" + os.urandom(size - 1)).decode()


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94] if len(samples) > 1 else samples[0]


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


# --- feed read vs the bare ceiling ---------------------------------------------------
def wrk_binary() -> str | None:
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True)
        found = shutil.which("wrk")
    return found


def wrk(binary: str, url: str, seconds: int) -> float:
    out = subprocess.run(
        [binary, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def feed_vs_bare(server: Daphne) -> list[tuple]:
    binary = wrk_binary()
    if binary is None:
        return [("feed read vs bare view", "skipped: install wrk (apt-get install -y wrk)")]
    feed = f"{server.url}/api/posts?topic={FEED_TOPIC}"
    bare = f"{server.url}/bench/bare"
    wrk(binary, feed, 1), wrk(binary, bare, 1)  # warm both paths
    feeds, bares = [], []
    for _ in range(ROUNDS):  # alternate, so drift in the machine's load hits both
        feeds.append(wrk(binary, feed, WRK_SECONDS))
        bares.append(wrk(binary, bare, WRK_SECONDS))
    ratios = sorted(f / b for f, b in zip(feeds, bares, strict=True))
    ratio = statistics.median(ratios)
    return [
        (
            "feed read req/s (50 posts, no cookie)",
            f"{statistics.median(feeds):,.0f}",
            f"bare view {statistics.median(bares):,.0f}",
            ">= 0.8 x bare",
            f"{ratio:.2f} x ({ratios[0]:.2f}-{ratios[-1]:.2f})",
            ratio >= 0.8,
        )
    ]


# --- Redis commands per request (MONITOR) ----------------------------------------------
class Monitor:
    """Counts top-level commands on our db between two markers (Lua's own calls,
    shown as ``[db lua]``, are not top-level and are left out)."""

    def __init__(self) -> None:
        parts = urlsplit(settings.REDIS_URL)
        self.db = parts.path.strip("/") or "0"
        self.sock = socket.create_connection((parts.hostname, parts.port or 6379))
        self.sock.sendall(b"MONITOR\r\n")
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

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

    def count(self, action) -> int:
        """Top-level commands our db saw while ``action()`` ran."""
        marker = secrets.token_hex(8)
        redis_utils.client().echo(f"start-{marker}")
        action()
        redis_utils.client().echo(f"end-{marker}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(f"end-{marker}" in x for x in self.lines):
            time.sleep(0.02)
        lines = self.lines
        start = next(i for i, x in enumerate(lines) if f"start-{marker}" in x)
        end = next(i for i, x in enumerate(lines) if f"end-{marker}" in x)
        source = re.compile(rf"^\+?[\d.]+ \[{self.db} (\S+)\]")
        counted = 0
        for line in lines[start + 1 : end]:
            match = source.match(line)
            if match and match.group(1) != "lua":
                counted += 1
        return counted

    def close(self) -> None:
        self.sock.close()


def commands_per_request(server: Daphne) -> list[tuple]:
    monitor = Monitor()
    try:
        reads = 50
        reader = Http(server.url)
        reader.request("GET", f"/api/posts?topic={FEED_TOPIC}")  # connect, load the script
        read_calls = monitor.count(
            lambda: [reader.request("GET", f"/api/posts?topic={FEED_TOPIC}") for _ in range(reads)]
        )
        writer = Http(server.url).start()
        works = [writer.challenge() for _ in range(20)]
        post_calls = monitor.count(
            lambda: [
                writer.request("POST", "/api/posts", {"topic": "cmds", "blob": blob(), **w})
                for w in works
            ]
        )
        drops = []
        for _ in range(10):
            _, content, _ = writer.request(
                "POST", "/api/drops", {"text": "x" * 100, **writer.challenge()}
            )
            drops.append(json.loads(content))
        opens = [(d["id"], k) for d in drops for k in d["keys"][:2]]  # not the burning view
        open_calls = monitor.count(
            lambda: [writer.request("POST", f"/api/drops/{i}/open", {"key": k}) for i, k in opens]
        )
    finally:
        monitor.close()
    read = read_calls / reads
    return [
        ("Redis commands / anonymous feed read", f"{read:.2f}", "MONITOR", "<= 2", "", read <= 2),
        ("Redis commands / post create", f"{post_calls / len(works):.2f}", "MONITOR", "", "", None),
        ("Redis commands / drop open", f"{open_calls / len(opens):.2f}", "MONITOR", "", "", None),
    ]


# --- writes: requests/s and p95 -----------------------------------------------------------
def concurrent_writes(server: Daphne, prepare, send) -> tuple[float, float, float]:
    """WRITERS threads, each with its own keep-alive client: prepare (untimed), then
    send its share of the requests. Returns (requests/s, p50 ms, p95 ms)."""
    share = WRITES // WRITERS
    latencies: list[float] = []
    barrier = threading.Barrier(WRITERS + 1)
    lock = threading.Lock()

    def worker() -> None:
        client = Http(server.url).start()
        jobs = [prepare(client) for _ in range(share)]
        barrier.wait()
        mine = []
        for job in jobs:
            status, content, taken = send(client, job)
            assert status in (200, 201), content[:200]
            mine.append(taken)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = len(latencies) / (time.perf_counter() - started)
    return rate, statistics.median(latencies) * 1000, p95(latencies) * 1000


def writes(server: Daphne) -> list[tuple]:
    rows = []
    text = "z" * DROP_TEXT_BYTES
    post = concurrent_writes(
        server,
        lambda c: c.challenge(),
        lambda c, w: c.request("POST", "/api/posts", {"topic": "writes", "blob": blob(), **w}),
    )
    drop = concurrent_writes(
        server,
        lambda c: c.challenge(),
        lambda c, w: c.request("POST", "/api/drops", {"text": text, **w}),
    )
    made = []

    def make_drop(client: Http):
        _, content, _ = client.request("POST", "/api/drops", {"text": text, **client.challenge()})
        made.append(json.loads(content))
        return made[-1]

    # Each prepared drop is opened once per job with its first key (a view, no burn).
    opened = concurrent_writes(
        server,
        make_drop,
        lambda c, d: c.request("POST", f"/api/drops/{d['id']}/open", {"key": d["keys"][0]}),
    )
    clients = f"{WRITERS} keep-alive clients"
    for label, (rate, p50, top) in (
        ("post create", post),
        ("drop create (text, QR)", drop),
        ("drop open", opened),
    ):
        rows.append((f"{label} req/s", f"{rate:,.0f}", clients, "", "", None))
        rows.append((f"{label} p50 / p95", f"{p50:.1f} / {top:.1f} ms", clients, "", "", None))
    return rows


def sealed_drops(server: Daphne) -> list[tuple]:
    import bench_drops

    count = 100 if QUICK else 200
    return bench_drops.sealed_vs_bare(server.url, Http, solve, ROUNDS // 2 or 1, count)


# --- live fan-out ----------------------------------------------------------------------------
def fanout(server: Daphne, size: int) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, deliveries missing) from POST to receipt at ``size`` sockets."""
    topic = f"fan-{size}-{secrets.token_hex(2)}"
    clients = subprocess.Popen(
        [sys.executable, str(HERE / "fanout_clients.py"), server.url, str(size), topic]
        + [str(FANOUT_POSTS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert clients.stdout.readline().strip() == "ready"
        writer = Http(server.url).start()
        works = [writer.challenge() for _ in range(FANOUT_POSTS)]
        sent: dict[str, float] = {}
        for work in works:
            time.sleep(0.15)  # one post at a time: latency, not throughput
            started = time.monotonic()
            status, content, _ = writer.request(
                "POST", "/api/posts", {"topic": topic, "blob": blob(), **work}
            )
            assert status == 201, content
            sent[json.loads(content)["id"]] = started
        received = json.loads(clients.stdout.readline())
    finally:
        clients.wait(timeout=90)
    latencies = [
        (stamp - sent[post_id]) * 1000 for post_id, stamps in received.items() for stamp in stamps
    ]
    missing = size * FANOUT_POSTS - len(latencies)
    return statistics.median(latencies), p99(latencies), missing


def fanouts() -> list[tuple]:
    """Both channel layers, each on a fresh daphne, sizes interleaved."""
    rows = []
    pubsub, core = Daphne(CHANNEL_LAYER="pubsub"), Daphne(CHANNEL_LAYER="core")
    try:
        for size in FANOUT_SIZES:
            p50, top, missing = fanout(pubsub, size)
            c50, ctop, cmissing = fanout(core, size)
            lost = f", {missing} lost" if missing else ""
            core_lost = f", {cmissing} lost" if cmissing else ""
            rows.append(
                (
                    f"fan-out to {size} sockets p50 / p99 (pub/sub layer)",
                    f"{p50:.1f} / {top:.1f} ms{lost}",
                    f"core layer {c50:.1f} / {ctop:.1f} ms{core_lost}",
                    "p99 <= 100 ms" if size == 500 else "",
                    "",
                    (top <= 100 and not missing) if size == 500 else None,
                )
            )
        for server in (pubsub, core):
            if "Traceback" in server.output():
                raise RuntimeError(server.output())
    finally:
        pubsub.stop()
        core.stop()
    return rows


# --- bytes in Redis ------------------------------------------------------------------------
def memory(name: str) -> int:
    return redis_utils.client().memory_usage(name, samples=0) or 0


def listpack_what_if(names: list[str]) -> int | None:
    """Bytes the same keys take in a private redis-server that keeps hashes up to
    1 KiB values as listpacks (RESTORE re-encodes by the server's thresholds)."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--hash-max-listpack-value", "1024"],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        other = redis.Redis(port=port)
        for _ in range(100):
            try:
                other.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        total = 0
        for name in names:
            other.restore(name, 0, redis_utils.client().dump(name), replace=True)
            total += other.memory_usage(name, samples=0) or 0
        return total
    finally:
        proc.kill()
        proc.wait()


def bytes_per_item() -> list[tuple]:
    conn = redis_utils.client()
    feeds = [board_keys.feed_key(topic="mem"), board_keys.feed_key()]
    before = sum(memory(f) for f in feeds)
    payload = blob(300)
    posts = [
        board_services.post_create(topic="mem", blob=payload, author="bench-fox-1000")
        for _ in range(MEMORY_SAMPLES)
    ]
    post_keys = [board_keys.post_key(p["id"]) for p in posts]
    hashes = sum(memory(k) for k in post_keys) / len(posts)
    feed_share = (sum(memory(f) for f in feeds) - before) / len(posts)
    per_post = hashes + feed_share
    listpack = listpack_what_if(post_keys[:50])

    index = drop_keys.EXPIRY()
    index_before = memory(index)
    text = "y" * DROP_TEXT_BYTES
    drops = [
        drop_services.drop_create(
            link_base=LINK, network="bench", ttl_seconds=600, max_views=3, text=text
        )
        for _ in range(MEMORY_SAMPLES)
    ]
    drop_hash = sum(memory(drop_keys.DROP(id=d.id)) for d in drops) / len(drops)
    receipt = sum(memory(drop_keys.RECEIPT(id=d.id)) for d in drops) / len(drops)
    index_share = (memory(index) - index_before) / len(drops)
    per_drop = drop_hash + receipt + index_share
    drop_names = [n for d in drops[:50] for n in keys_of(drop_id=d.id)]
    drop_listpack = listpack_what_if(drop_names)
    conn.delete(*post_keys)
    size = len(payload)
    rows = [
        (
            f"Redis bytes / post ({size} B blob)",
            f"{per_post:,.0f} (+{per_post - size:,.0f})",
            f"hash {hashes:,.0f} + 2 feed entries {feed_share:,.0f}",
            "overhead <= 256",
            "",
            per_post - size <= 256,
        ),
        (
            f"Redis bytes / text drop ({DROP_TEXT_BYTES} B text)",
            f"{per_drop:,.0f} (+{per_drop - DROP_TEXT_BYTES:,.0f})",
            f"hash {drop_hash:,.0f} + receipt {receipt:,.0f} + index {index_share:,.0f}",
            "overhead <= 256",
            "",
            per_drop - DROP_TEXT_BYTES <= 256,
        ),
    ]
    if listpack is not None:
        rows.append(
            (
                "  what if hash-max-listpack-value=1024",
                f"post hash {listpack / 50:,.0f}",
                f"drop + receipt {drop_listpack / 50:,.0f}",
                "",
                "",
                None,
            )
        )
    return rows


def sweep() -> list[tuple]:
    import bench_drops

    indexed, orphans = bench_drops.bench_sweep()
    return [
        ("sweep 10,000 files of expired drops", f"{indexed:.2f} s", f"orphan scan {orphans:.2f} s")
    ]


# --- the table ---------------------------------------------------------------------------
def seed_feed(server: Daphne) -> None:
    for _ in range(FEED_POSTS):
        board_services.post_create(topic=FEED_TOPIC, blob=blob(), author="bench-owl-1000")
    status, body, _ = Http(server.url).request("GET", f"/api/posts?topic={FEED_TOPIC}")
    assert status == 200, body
    Path(SERVER_ENV["BENCH_BARE_BODY_FILE"]).write_bytes(body)
    status, bare, _ = Http(server.url).request("GET", "/bench/bare")
    assert bare == body, "the bare view must answer the feed's bytes"


def print_table(rows: list[tuple]) -> None:
    header = ("measure", "value", "reference (same run)", "goal", "ratio", "met")
    table = [header]
    for row in rows:
        row = tuple(row) + ("",) * (6 - len(row))
        met = {True: "yes", False: "NO", None: ""}.get(row[5], row[5])
        table.append((*[str(cell) for cell in row[:5]], met))
    widths = [max(len(r[i]) for r in table) for i in range(6)]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    conn = redis_utils.client()
    conn.flushdb()
    rows: list[tuple] = [
        ("machine", f"{os.cpu_count()} cores", f"redis {settings.REDIS_URL}"),
    ]
    server = Daphne()
    try:
        seed_feed(server)
        rows += feed_vs_bare(server)
        rows += commands_per_request(server)
        rows += writes(server)
        rows += sealed_drops(server)
        if "Traceback" in server.output():
            raise RuntimeError(server.output())
    finally:
        server.stop()
    rows += fanouts()
    conn.flushdb()
    try:
        rows += bytes_per_item()
        conn.flushdb()
        rows += sweep()
    finally:
        conn.flushdb()
    print_table(rows)


if __name__ == "__main__":
    main()
