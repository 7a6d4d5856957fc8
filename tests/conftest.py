"""Shared fixtures: a flushed store per test, API helpers, a live web server, a browser."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from django.conf import settings

from nullboard import redis_utils
from tests import servers
from tests.pow import solve
from tests.privacy import LOG_BOOK, SERVER_PORTS, TEST_CLIENT_ADDRESS, addresses_in_store
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))


def pytest_report_header(config):
    where = (
        settings.REDIS_URL
        or (settings.REDIS_CLUSTER_NODES and f"Redis Cluster {settings.REDIS_CLUSTER_NODES}")
        or "embedded fakeredis (no redis-server, or REDIS_URL silent)"
    )
    return [
        f"nullboard store: {where}",
        f"chromium: {CHROMIUM if Path(CHROMIUM).exists() else 'absent'}",
    ]


@pytest.fixture(autouse=True)
def _flush_store():
    """Every test starts with an empty store (its own Redis db, see tests/settings.py),
    and leaves no client address in it (tests/privacy.py)."""
    redis_utils.client().flushdb()
    yield
    try:
        found = addresses_in_store()
    except redis_utils.OUTAGE_ERRORS:
        return  # a test that stopped the store has its own checks
    assert not found, f"client addresses left in the store: {found}"


@pytest.fixture(scope="session", autouse=True)
def _no_client_address_in_any_log_line():
    """Every line logged during the suite, here and by each web server a test
    starts, is kept; once the suite ends, none may name a client address or carry
    a capability token (tests/privacy.py)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {
        handler
        for logger in loggers
        for handler in getattr(logger, "handlers", ())
        if not type(handler).__module__.startswith("_pytest")
    }
    assert handlers, "the project's log handlers are not configured"
    for handler in handlers:
        LOG_BOOK.watch(handler, f"log handler {handler.name or type(handler).__name__}")
    yield
    offenders = LOG_BOOK.offenders()
    assert not offenders, "log lines name a client address or carry a capability:\n" + (
        "\n".join(offenders[:20])
    )


@pytest.fixture
def client():
    """Django's test client, from an address nothing else in the suite uses."""
    from django.test import Client

    return Client(REMOTE_ADDR=TEST_CLIENT_ADDRESS)


@pytest.fixture
def async_client():
    from django.test import AsyncClient

    return AsyncClient(REMOTE_ADDR=TEST_CLIENT_ADDRESS)


@pytest.fixture
def real_redis():
    """Skip outside CI when only the embedded store is available; fail in CI."""
    if redis_utils.is_embedded():
        if IN_CI:
            pytest.fail("CI must run the real-Redis tests")
        pytest.skip("no real Redis answered")
    return redis_utils.client()


def start_session(client) -> dict:
    """POST /api/session and return its JSON."""
    response = client.post("/api/session")
    assert response.status_code == 200, response.content
    return response.json()


def pow_fields(client) -> dict:
    """A fresh, solved challenge for ``client``'s session."""
    data = start_session(client)
    return {
        "pow_challenge": data["pow_challenge"],
        "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
    }


@pytest.fixture
def session(client) -> dict:
    return start_session(client)


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's web line as argv, on loopback ``port``, run by this Python."""
    import shlex

    lines = (ROOT / "Procfile").read_text().splitlines()
    web = dict(line.split(": ", 1) for line in lines if line.strip())["web"]
    argv = shlex.split(web.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1"))
    return [sys.executable, "-m", *argv]


class WebServer:
    """A real web process serving the project, started from the Procfile's web line
    (Hypercorn; ``DaphneServer`` is its old name). ``pid`` is the serving process."""

    def __init__(self, env: dict | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        SERVER_PORTS.add(self.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        if "REDIS_URL" in (env or {}):  # its own server, in place of the suite's cluster
            self.env.pop("REDIS_CLUSTER_NODES", None)
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        self.env.setdefault("PYTHONPATH", str(ROOT))
        self.proc: subprocess.Popen | None = None
        # A file, not a pipe: a chatty server must never block on a full pipe.
        self.output = tempfile.TemporaryFile()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> WebServer:
        self.proc = subprocess.Popen(
            procfile_web_command(self.port),
            cwd=ROOT,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(self.url + "/static/css/site.css", timeout=60)
        return self

    def stop(self) -> str:
        """Stop the server and return what it printed."""
        if self.proc is None:
            return ""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        printed = self.printed()
        LOG_BOOK.add(f"web server :{self.port}", printed)
        return printed

    def printed(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


DaphneServer = WebServer  # the name the suite's tests know it by


@pytest.fixture(scope="session")
def live_server_url():
    """The Procfile's web server on the test store, shared by the browser tests."""
    server = DaphneServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """The system Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail(f"CI must run the browser tests; {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        yield instance
        instance.close()


class PageProblems(list):
    """Console errors, CSP violations and failed requests seen by a page."""


def watch(page) -> PageProblems:
    problems = PageProblems()
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


@pytest.fixture
def new_page(browser, live_server_url):
    """Open pages in fresh browser contexts; each page records its problems."""
    contexts = []

    def make(path: str = "/"):
        context = browser.new_context(base_url=live_server_url)
        contexts.append(context)
        page = context.new_page()
        page.problems = watch(page)
        if path is not None:
            page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()


class HttpClient:
    """A cookie-keeping JSON client for a live server (GET / first for CSRF)."""

    def __init__(self, base_url: str) -> None:
        import http.cookiejar

        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        """Return (status, headers, body bytes); never raises for HTTP errors."""
        import json

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if method != "GET":
            req.add_header("Content-Type", "application/json")
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Origin", self.base_url)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body: dict | None = None):
        return self.request("POST", path, body or {})


class RedisServer(servers.RedisServer):
    """A throwaway redis-server on its own port, for outage tests (tests/servers.py);
    a missing binary skips the test, or fails it under CI."""

    def __init__(self, port: int | None = None, args: list[str] | None = None) -> None:
        super().__init__(port, args)
        SERVER_PORTS.add(self.port)

    def start(self) -> RedisServer:
        try:
            super().start()
        except servers.RedisServerMissing:
            if IN_CI:
                pytest.fail("CI must run the outage tests; redis-server is missing")
            pytest.skip("redis-server is not installed")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5, decode_responses=True)


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config, items):
    """Run browser tests last: Playwright's sync API keeps an event loop running in
    the main thread while the session-wide browser lives, which breaks every async
    test collected after it ("Runner.run() cannot be called from a running event loop")."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
