"""Every Nullboard benchmark in one table, each figure beside its reference.

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python tests/perf/bench_all.py

Runs against the real Redis at REDIS_URL (db 10 by default; it FLUSHDBs that db
before and after, never anything else) and real web processes started like the
Procfile's web line, serving tests/perf/asgi_bare.py: the site plus a bare,
middleware-free async view that answers the feed page's bytes (the ceiling).
Every hot path is a ratio to that bare view from the same ``wrk`` connections
(installed with apt-get when possible, else those rows are skipped with a
message), in rounds alternating with it; live fan-out is measured against a bare
``websockets`` broadcast server (tests/perf/fanout_floor.py) to the same sockets;
two web processes (WEB_CONCURRENCY=2) against one. The machine is shared and
noisy, so every pair is measured in alternating rounds of the same run and the
median ratio printed. ``BENCH_QUICK=1`` shortens every phase. docs/scaling.md
says what each row measures.
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
from drops import sealing  # noqa: E402
from drops import services as drop_services  # noqa: E402
from nullboard import redis_utils  # noqa: E402
from tests.pow import solve  # noqa: E402
from tests.readers import keys_of  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
ROUNDS = 2 if QUICK else 6
WRK_SECONDS = 2 if QUICK else 3
WRK_CONNECTIONS = 16
WRITES = 150 if QUICK else 500  # prepared requests per write phase (one proof of work each)
SESSIONS = 4 * WRITES  # POST /api/session is cheaper: more of them for a phase of similar length
WRITER_SESSIONS = 8  # sessions the prepared writes are spread over
FANOUT_SIZES = (500, 2000)
FANOUT_ROUNDS = 1 if QUICK else 3
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until it answers (with workers, one of them)
            try:
                probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                probe.request("GET", "/bench/spare")
                if probe.getresponse().status == 204:
                    return
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.output()}")

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
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # The server closed the idle keep-alive connection (SERVER_IDLE_TIMEOUT).
            self.conn.close()
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


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


# --- every hot path vs the bare ceiling, with wrk ---------------------------------------
def wrk_binary() -> str | None:
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True)
        found = shutil.which("wrk")
    return found


def wrk(binary: str, url: str, seconds: int) -> float:
    """Requests/s of GET ``url`` for ``seconds`` from WRK_CONNECTIONS connections."""
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


def wrk_list(binary: str, url: str, lines: list[str]) -> tuple[float, float]:
    """Send the prepared requests, each at most once, for WRK_SECONDS from
    WRK_CONNECTIONS connections (tests/perf/wrk_list.lua): (requests/s, p50 ms), the
    rate over the time from the first request to the last answer. Any answer >= 300
    fails the bench."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as listing:
        listing.write("\n".join(lines) + "\n")
        listing.flush()
        out = subprocess.run(
            [binary, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s"]
            + ["-s", str(HERE / "wrk_list.lua"), url, "--", listing.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = re.search(r"answered (\d+) failed (\d+) seconds ([\d.]+)", out)
    answered, failed, seconds = int(found.group(1)), int(found.group(2)), float(found.group(3))
    if failed or answered < min(len(lines), 50) or seconds <= 0:
        raise RuntimeError(f"{url}: {answered} of {len(lines)} answered, {failed} failed\n{out}")
    p50 = int(re.search(r"p50 (\d+)", out).group(1)) / 1000
    return answered / seconds, p50


def listed(method: str, path: str, client: Http, body: dict | None) -> str:
    """One line of a wrk_list.lua file: this client's cookies and CSRF token."""
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    data = json.dumps(body) if body is not None else ""
    return "\t".join((method, path, cookie, client.cookies.get("csrftoken", ""), data))


def sealed_text(text: str) -> tuple[dict, drop_services.SealInput, bytes, list[str]]:
    """A text drop sealed as new.js seals it (untimed, here): the API body, the same
    seal and ciphertext as the service takes them, and its verifiers (base64url)."""
    drop_id = secrets.token_urlsafe(12)
    sealed = sealing.drop_seal(drop_id=drop_id, kind="text", plaintext=text.encode())
    verifiers = [k.verifier for k in sealed.keys]
    wrapped = [k.wrapped for k in sealed.keys]
    seal = {
        "v": 1,
        "id": drop_id,
        "salt": sealing.b64encode(sealed.salt),
        "iterations": 0,
        "keys": [
            {"verifier": sealing.b64encode(v), "wrapped": sealing.b64encode(w)}
            for v, w in zip(verifiers, wrapped, strict=True)
        ],
    }
    body = {"seal": seal, "ciphertext": sealing.b64encode(sealed.ciphertext)}
    stored = drop_services.SealInput(
        drop_id=drop_id, salt=sealed.salt, iterations=0, verifiers=verifiers, wrapped=wrapped
    )
    return body, stored, sealed.ciphertext, [sealing.b64encode(v) for v in verifiers]


def browser_drop_stored(text: str) -> tuple[drop_services.SealInput, list[str]]:
    """A browser-sealed text drop stored through the service (no HTTP): its seal and
    its readers' verifiers."""
    _, stored, ciphertext, verifiers = sealed_text(text)
    drop_services.drop_store(
        link_base=LINK,
        network="bench",
        ttl_seconds=600,
        max_views=3,
        kind="text",
        seal=stored,
        ciphertext=ciphertext,
    )
    return stored, verifiers


# (row label, goal as a ratio to the bare view)
PATHS = {
    "feed": ("feed read, 50 posts, no cookie", 0.9),
    "session": ("POST /api/session (with a session)", 0.8),
    "post": ("post create (browser-sealed blob)", 0.5),
    "create-browser": ("drop create, browser-sealed (text)", 0.5),
    "create-server": ("drop create, server-sealed / no-JS (text, QR)", 0.5),
    "open-browser": ("drop open, browser-sealed (by verifier)", 0.7),
    "open-server": ("drop open, server-sealed / no-JS (by key)", 0.7),
}


def prepare_round(server: Daphne, writers: list[Http]) -> dict[str, list[str]]:
    """One round's requests for every listed path, each used once: fresh challenges
    (asked for over HTTP, as a page does), and drops to open stored beforehand."""
    text = "z" * DROP_TEXT_BYTES
    jobs: dict[str, list[str]] = {name: [] for name in PATHS if name != "feed"}
    for n in range(SESSIONS):
        jobs["session"].append(listed("POST", "/api/session", writers[n % len(writers)], {}))
    for n in range(WRITES):
        client = writers[n % len(writers)]
        post = {"topic": "writes", "blob": blob(), **client.challenge()}
        jobs["post"].append(listed("POST", "/api/posts", client, post))
        body, _, _, _ = sealed_text(text)
        jobs["create-browser"].append(
            listed("POST", "/api/drops", client, {**body, **client.challenge()})
        )
        plain = {"text": text, **client.challenge()}
        jobs["create-server"].append(listed("POST", "/api/drops", client, plain))
        stored, verifiers = browser_drop_stored(text)
        jobs["open-browser"].append(
            listed("POST", f"/api/drops/{stored.drop_id}/open", client, {"verifier": verifiers[0]})
        )
        drop = drop_services.drop_create(
            link_base=LINK, network="bench", ttl_seconds=600, max_views=3, text=text
        )
        jobs["open-server"].append(
            listed("POST", f"/api/drops/{drop.id}/open", client, {"key": drop.keys[0]})
        )
    return jobs


def paths_vs_bare(server: Daphne) -> list[tuple]:
    """Every hot path as a ratio to the bare view on the same server, from the same wrk
    connections, in rounds that alternate with the bare view (bare, path, bare, path,
    ...): each path's ratio is to the mean of the two bare runs around it, and the row
    shows the median over rounds."""
    binary = wrk_binary()
    if binary is None:
        return [("hot paths vs bare view", "skipped: install wrk (apt-get install -y wrk)")]
    feed = f"{server.url}/api/posts?topic={FEED_TOPIC}"
    bare = f"{server.url}/bench/bare"
    wrk(binary, feed, 1), wrk(binary, bare, 1)  # warm both paths
    writers = [Http(server.url).start() for _ in range(WRITER_SESSIONS)]
    for writer in writers:
        writer.challenge()  # each has its session now
    rates: dict[str, list[float]] = {name: [] for name in PATHS}
    p50s: dict[str, list[float]] = {name: [] for name in PATHS}
    ratios: dict[str, list[float]] = {name: [] for name in PATHS}
    bares: list[float] = []
    for _ in range(ROUNDS):
        jobs = prepare_round(server, writers)
        before = wrk(binary, bare, WRK_SECONDS)
        bares.append(before)
        for name in PATHS:
            if name == "feed":
                rate, p50 = wrk(binary, feed, WRK_SECONDS), None
            else:
                rate, p50 = wrk_list(binary, server.url, jobs[name])
            after = wrk(binary, bare, WRK_SECONDS)
            bares.append(after)
            rates[name].append(rate)
            if p50 is not None:
                p50s[name].append(p50)
            ratios[name].append(rate / ((before + after) / 2))
            before = after
    rows = []
    reference = f"bare view {statistics.median(bares):,.0f} req/s"
    for name, (label, goal) in PATHS.items():
        spread = sorted(ratios[name])
        ratio = statistics.median(spread)
        value = f"{statistics.median(rates[name]):,.0f} req/s"
        if p50s[name]:
            value += f", p50 {statistics.median(p50s[name]):.1f} ms"
        rows.append(
            (
                label,
                value,
                reference,
                f">= {goal} x bare",
                f"{ratio:.2f} x ({spread[0]:.2f}-{spread[-1]:.2f})",
                ratio >= goal,
            )
        )
    return rows


def two_processes_vs_one() -> list[tuple]:
    """Feed reads/s from WEB_CONCURRENCY=2 (two Hypercorn workers on one port) against
    one process, both serving the same Redis, in alternating rounds."""
    binary = wrk_binary()
    if binary is None or os.environ.get("BENCH_SERVER") == "daphne":
        return [("2 web processes vs 1", "skipped: needs wrk and Hypercorn")]
    one, two = Daphne(), Daphne(WEB_CONCURRENCY="2")
    try:
        urls = [f"{s.url}/api/posts?topic={FEED_TOPIC}" for s in (one, two)]
        for url in urls:
            wrk(binary, url, 2)  # warm (with two workers, both of them)
        ones, twos = [], []
        for _ in range(ROUNDS):
            ones.append(wrk(binary, urls[0], WRK_SECONDS))
            twos.append(wrk(binary, urls[1], WRK_SECONDS))
        for server in (one, two):
            if "Traceback" in server.output():
                raise RuntimeError(server.output())
    finally:
        one.stop()
        two.stop()
    spread = sorted(t / o for t, o in zip(twos, ones, strict=True))
    ratio = statistics.median(spread)
    return [
        (
            "feed read, WEB_CONCURRENCY=2 (one port)",
            f"{statistics.median(twos):,.0f} req/s",
            f"1 process {statistics.median(ones):,.0f} req/s",
            f"{os.cpu_count()} cores, wrk and Redis on them",
            f"{ratio:.2f} x ({spread[0]:.2f}-{spread[-1]:.2f})",
            None,
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


# --- live fan-out against the bare websockets floor -----------------------------------------
def fanout_gap(size: int) -> float:
    """Seconds between posts: one at a time (latency, not throughput), with room for
    each post's deliveries to finish before the next at the larger sizes."""
    return max(0.15, size / 4000)


def subscribers(url: str, size: int, topic: str, posts: int) -> subprocess.Popen:
    """``size`` sockets joined to ``topic`` in tests/perf/fanout_clients.py, ready."""
    clients = subprocess.Popen(
        [sys.executable, str(HERE / "fanout_clients.py"), url, str(size), topic, str(posts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert clients.stdout.readline().strip() == "ready"
    return clients


def latencies(clients: subprocess.Popen, sent: dict[str, float]) -> list[float]:
    """Every delivery's ms from send to receipt; missing deliveries fail the bench."""
    received = json.loads(clients.stdout.readline())
    clients.wait(timeout=90)
    found = [
        (stamp - sent[post_id]) * 1000 for post_id, stamps in received.items() for stamp in stamps
    ]
    return found


def fanout_site(server: Daphne, size: int) -> tuple[list[float], int]:
    """POST /api/posts to receipt at ``size`` sockets: (latencies, deliveries missing)."""
    topic = f"fan-{size}-{secrets.token_hex(2)}"
    writer = Http(server.url).start()
    works = [writer.challenge() for _ in range(FANOUT_POSTS)]
    clients = subscribers(server.url, size, topic, FANOUT_POSTS)
    try:
        sent: dict[str, float] = {}
        for work in works:
            time.sleep(fanout_gap(size))
            started = time.monotonic()
            status, content, _ = writer.request(
                "POST", "/api/posts", {"topic": topic, "blob": blob(), **work}
            )
            assert status == 201, content
            sent[json.loads(content)["id"]] = started
        found = latencies(clients, sent)
    finally:
        if clients.poll() is None:
            clients.kill()
    return found, size * FANOUT_POSTS - len(found)


def fanout_floor(url: str, size: int) -> tuple[list[float], int]:
    """The same through tests/perf/fanout_floor.py: a frame of a post's size, handed to
    the floor server over a control socket and broadcast to ``size`` sockets."""
    from websockets.sync.client import connect

    topic = f"floor-{size}"
    clients = subscribers(url, size, topic, FANOUT_POSTS)
    try:
        sent: dict[str, float] = {}
        with connect(url.replace("http://", "ws://") + "/") as control:
            for _ in range(FANOUT_POSTS):
                time.sleep(fanout_gap(size))
                post_id = secrets.token_hex(8)
                frame = {"event": "post:new", "payload": {"id": post_id, "topic": topic}}
                frame["payload"] |= {"blob": blob(), "author": "bench-owl-1000"}
                message = json.dumps({"event": "bench:broadcast", "payload": json.dumps(frame)})
                sent[post_id] = time.monotonic()
                control.send(message)
            found = latencies(clients, sent)
    finally:
        if clients.poll() is None:
            clients.kill()
    return found, size * FANOUT_POSTS - len(found)


def fanouts() -> list[tuple]:
    """The live feed (pub/sub layer, one web process) against the floor, at each size,
    in alternating rounds (site, floor, site, floor ...)."""
    rows = []
    server = Daphne(CHANNEL_LAYER="pubsub")
    port = free_port()
    floor = subprocess.Popen(
        [sys.executable, str(HERE / "fanout_floor.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert floor.stdout.readline().strip() == "ready"
        floor_url = f"http://127.0.0.1:{port}"
        for size in FANOUT_SIZES:
            site_all: list[float] = []
            floor_all: list[float] = []
            ratios: list[float] = []
            lost = 0
            for _ in range(FANOUT_ROUNDS):
                site, missing = fanout_site(server, size)
                base, base_missing = fanout_floor(floor_url, size)
                assert not base_missing, f"the floor lost {base_missing} deliveries"
                lost += missing
                ratios.append(p99(site) / p99(base))
                site_all += site
                floor_all += base
            spread = sorted(ratios)
            ratio = statistics.median(spread)
            site_p99, floor_p99 = p99(site_all), p99(floor_all)
            lost_note = f", {lost} LOST" if lost else ""
            rows.append(
                (
                    f"fan-out to {size:,} sockets p50 / p99",
                    f"{statistics.median(site_all):.1f} / {site_p99:.1f} ms{lost_note}",
                    f"floor {statistics.median(floor_all):.1f} / {floor_p99:.1f} ms",
                    "p99 <= 2 x floor" + (", <= 100 ms" if size >= 2000 else ""),
                    f"{ratio:.2f} x ({spread[0]:.2f}-{spread[-1]:.2f})",
                    ratio <= 2 and not lost and (size < 2000 or site_p99 <= 100),
                )
            )
            slowest = max(site_all)
            rows.append(
                (
                    f"  slowest delivery of any post, {size:,} sockets",
                    f"{slowest:.1f} ms",
                    f"floor p99 {floor_p99:.1f} ms",
                    "<= 3 x floor p99",
                    f"{slowest / floor_p99:.2f} x",
                    slowest <= 3 * floor_p99,
                )
            )
        if "Traceback" in server.output():
            raise RuntimeError(server.output())
    finally:
        server.stop()
        floor.terminate()
        floor.wait(timeout=10)
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


def keyspace() -> dict[str, int]:
    """MEMORY USAGE (every element counted) of every key in the bench's db."""
    conn = redis_utils.client()
    return {
        name.decode(): conn.memory_usage(name, samples=0) or 0
        for name in conn.scan_iter(count=1000)
    }


def family(name: str) -> str:
    """A key's name with its hash tag, ids and HMACs as ``*``, to group the keys per
    item (``nb:post:{0a1b}:0a1b…`` and ``nb:drop:{id}`` are one family each)."""
    untagged = re.sub(r"\{[^}]*\}", "{*}", name)
    return re.sub(r"(?<=:)[A-Za-z0-9_-]{16,}(?=:|$)", "*", untagged)


def grown(make, count: int) -> tuple[float, dict[str, float], list[str]]:
    """Bytes per item of ``count`` calls of ``make`` over every key in the db (new keys
    and the growth of shared ones: feeds, indexes, quotas), those bytes by key family,
    and the names of the new keys."""
    before = keyspace()
    for _ in range(count):
        make()
    after = keyspace()
    families: dict[str, float] = {}
    for name in set(before) | set(after):
        change = after.get(name, 0) - before.get(name, 0)
        if change:
            families[family(name)] = families.get(family(name), 0) + change / count
    return sum(families.values()), families, sorted(set(after) - set(before))


def breakdown(families: dict[str, float], shown: int = 3) -> str:
    """The largest key families (without the site's key prefix), the rest summed."""
    ordered = sorted(families.items(), key=lambda item: -item[1])
    parts = [f"{name.removeprefix(redis_utils.PREFIX)} {size:,.0f}" for name, size in ordered]
    rest = sum(size for _, size in ordered[shown:])
    return " + ".join(parts[:shown]) + (f" + other {rest:,.0f}" if len(parts) > shown else "")


def bytes_per_item() -> list[tuple]:
    payload = blob(300)
    text = "y" * DROP_TEXT_BYTES
    per_post, post_families, post_names = grown(
        lambda: board_services.post_create(topic="mem", blob=payload, author="bench-fox-1000"),
        MEMORY_SAMPLES,
    )
    per_server, server_families, server_names = grown(
        lambda: drop_services.drop_create(
            link_base=LINK, network="bench", ttl_seconds=600, max_views=3, text=text
        ),
        MEMORY_SAMPLES,
    )

    per_browser, browser_families, _ = grown(lambda: browser_drop_stored(text), MEMORY_SAMPLES)
    size = len(payload)
    rows = [
        (
            f"Redis bytes / post ({size} B blob), every key",
            f"{per_post:,.0f} (+{per_post - size:,.0f})",
            breakdown(post_families),
            "overhead <= 256",
            "",
            per_post - size <= 256,
        )
    ]
    for label, per, families in (
        ("server-sealed / no-JS", per_server, server_families),
        ("browser-sealed", per_browser, browser_families),
    ):
        rows.append(
            (
                f"Redis bytes / text drop ({DROP_TEXT_BYTES} B), {label}",
                f"{per:,.0f} (+{per - DROP_TEXT_BYTES:,.0f})",
                breakdown(families),
                "overhead <= 256",
                "",
                per - DROP_TEXT_BYTES <= 256,
            )
        )
    post_hashes = [n for n in post_names if family(n) == family(board_keys.post_key("0" * 16))]
    listpack = listpack_what_if(post_hashes[:50])
    some_drops = [n for n in server_names if family(n) == family(drop_keys.DROP(id="A" * 16))]
    drop_ids = [re.search(r"\{([^}]*)\}", n).group(1) for n in some_drops[:50]]
    drop_listpack = listpack_what_if([k for i in drop_ids for k in keys_of(drop_id=i)])
    if listpack is not None and drop_listpack is not None:
        rows.append(
            (
                "  what if hash-max-listpack-value=1024",
                f"post hash {listpack / 50:,.0f}",
                f"server-sealed drop + receipt {drop_listpack / 50:,.0f}",
                "",
                "",
                None,
            )
        )
    return rows


def sweep() -> list[tuple]:
    """In a media folder of its own: the bench's drops left files in MEDIA_ROOT, and
    after a long run they are past the sweeper's grace."""
    import bench_drops
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory(prefix="nb-bench-sweep-") as folder:
        with override_settings(MEDIA_ROOT=Path(folder)):
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
    try:
        server = Daphne()
        try:
            seed_feed(server)
            rows += commands_per_request(server)
            rows += paths_vs_bare(server)
            if "Traceback" in server.output():
                raise RuntimeError(server.output())
        finally:
            server.stop()
        rows += two_processes_vs_one()
        rows += fanouts()
        conn.flushdb()
        rows += bytes_per_item()
        conn.flushdb()
        rows += sweep()
    finally:
        conn.flushdb()
        print_table(rows)  # what was measured, even when a later phase failed


if __name__ == "__main__":
    main()
