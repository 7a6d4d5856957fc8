"""Privacy and security promises as tests: cookies, CSRF on every state-changing
URL, no request to another origin, and no client address in Redis or any log."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from boards import services as boards
from tests.conftest import DaphneServer, HttpClient, pow_fields
from tests.privacy import everything_in_redis
from tests.reliability.conftest import (
    assert_no_server_error,
    blob,
    redis_snapshot,
    session_client,
    solved,
)

pytestmark = pytest.mark.redis


# --- cookies -----------------------------------------------------------------------


def set_cookies(headers) -> dict[str, str]:
    """Set-Cookie lines by cookie name."""
    found = {}
    for line in headers.get_all("Set-Cookie") or []:
        found[line.split("=", 1)[0]] = line
    return found


class HttpsDaphneServer(DaphneServer):
    """Daphne with HTTPS on, as behind a TLS-terminating proxy: plain requests
    are redirected, so readiness is checked with X-Forwarded-Proto."""

    def start(self) -> HttpsDaphneServer:
        import subprocess
        import sys
        import time
        import urllib.request

        from tests.conftest import ROOT

        cmd = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--verbosity", "0", "nullboard.asgi:application"]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT
        )
        request = urllib.request.Request(
            self.url + "/static/css/site.css", headers={"X-Forwarded-Proto": "https"}
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(request, timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not answer")


def test_cookies_are_httponly_samesite_and_secure_under_https():
    """A real daphne with production's HTTPS behind one proxy (X-Forwarded-Proto)."""
    web = HttpsDaphneServer(env={"HTTPS": "true"}).start()
    try:
        import urllib.request

        opener = urllib.request.build_opener()
        request = urllib.request.Request(web.url + "/", headers={"X-Forwarded-Proto": "https"})
        with opener.open(request, timeout=10) as response:
            assert response.status == 200
            cookies = set_cookies(response.headers)
            hsts = response.headers["Strict-Transport-Security"]
        # A page view stores no session: the throwaway name rides in a signed cookie.
        assert set(cookies) >= {"csrftoken", "nb_name"}
        for name, line in cookies.items():
            attributes = [part.strip().lower() for part in line.split(";")[1:]]
            assert "secure" in attributes, line
            assert "samesite=lax" in attributes or "samesite=strict" in attributes, line
            if name != "csrftoken":  # the page's script reads the CSRF token
                assert "httponly" in attributes, line
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000

        # Plain HTTP is redirected before any cookie is set.
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        plain = urllib.request.build_opener(NoRedirect)
        try:
            plain.open(web.url + "/", timeout=10)
            raise AssertionError("plain HTTP was served")
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 301
            assert redirect.headers["Location"].startswith("https://")
            assert not set_cookies(redirect.headers)
    finally:
        printed = web.stop()
    assert_no_server_error(printed)


# --- CSRF --------------------------------------------------------------------------


def every_pattern(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every URL pattern of the site, as a route with <name> placeholders."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLPattern):
            found.append(route)
        else:
            found += every_pattern(entry, route)
    return found


@pytest.fixture
def made(client):
    """One live item of each kind, so every URL can be filled with a real id."""
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    room = boards.room_create()["room"]
    response = client.post(
        "/api/drops", {"text": "secret", **pow_fields(client)}, content_type="application/json"
    )
    drop = response.json()
    token = drop["receipt_url"].rsplit("/", 1)[-1]
    return {
        "post_id": post["id"],
        "topic": "news",
        "room": room,
        "drop_id": drop["id"],
        "token": token,
        "ticket": "t" * 32,
        "lang": "fa",
    }


def test_every_url_refuses_a_post_without_a_csrf_token(made):
    """Whatever the URL, a cross-site POST is a 403 and changes nothing."""
    routes = [r for r in every_pattern() if not r.startswith("static")]
    assert len(routes) >= 15
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")  # a CSRF cookie, but the attacker cannot send it as a header
    session = Client(enforce_csrf_checks=True)
    session.post("/api/session")
    before = redis_snapshot()
    checked = []
    for route in routes:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: made[m.group(1)], route)
        for client in (Client(enforce_csrf_checks=True), browser):
            for data, kind in (({"text": "x", "key": "k"}, None), ('{"a": 1}', "application/json")):
                if kind:
                    response = client.post(path, data, content_type=kind)
                else:
                    response = client.post(path, data)
                assert response.status_code == 403, (path, response.status_code)
                if path.startswith("/api/"):
                    assert response.json()["error"] == "csrf_failed"
        checked.append(path)
    assert "/api/drops" in checked and "/api/flags" in checked
    assert redis_snapshot().keys() == before.keys()


def test_a_foreign_origin_is_refused_even_with_the_token(made):
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    token = client.cookies["csrftoken"].value
    for path in ("/api/session", "/api/rooms", "/api/flags", f"/d/{made['drop_id']}"):
        response = client.post(
            path,
            "{}",
            content_type="application/json",
            headers={"X-CSRFToken": token, "Origin": "https://evil.example"},
        )
        assert response.status_code == 403, path
    response = client.post(
        "/api/session", headers={"X-CSRFToken": token, "Origin": "http://testserver"}
    )
    assert response.status_code == 200


# --- no request to another origin ----------------------------------------------------


@pytest.mark.browser
def test_no_page_asks_another_origin_for_anything(new_page, live_server_url):
    api = session_client(live_server_url)
    _, _, body = api.post("/api/rooms", solved(api))
    room = json.loads(body)["room"]
    _, _, body = api.post("/api/posts", {"topic": "news", "blob": blob(), **solved(api)})
    post_id = json.loads(body)["id"]
    _, _, body = api.post("/api/drops", {"text": "hi", **solved(api)})
    drop = json.loads(body)
    receipt = urlsplit(drop["receipt_url"]).path
    pages = [
        "/",
        "/topic/news",
        f"/r/{room}",
        f"/post/{post_id}",
        "/trending",
        "/about",
        "/drops/new",
        f"/d/{drop['id']}",
        receipt,
        "/d/AAAAAAAAAAAAAAAA",
        "/no-such-page",
    ]
    origin = urlsplit(live_server_url)
    for path in pages:
        page = new_page(None)
        seen: list[str] = []
        page.on("request", lambda request, seen=seen: seen.append(request.url))
        page.on("websocket", lambda socket, seen=seen: seen.append(socket.url))
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert seen, path
        for url in seen:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            assert (parts.hostname, parts.port) == (origin.hostname, origin.port), (path, url)
            assert parts.scheme in ("http", "ws"), (path, url)
    # The drop opens in the browser too, from its key in the fragment.
    page = new_page(None)
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(f"/d/{drop['id']}#key={drop['keys'][0]}")
    page.wait_for_load_state("networkidle")
    assert all(urlsplit(u).netloc == origin.netloc for u in seen if u.startswith("http"))


# --- no client address in Redis or in any log line -----------------------------------

ADDRESSES = ["203.0.113.9", "2001:db8:0:1::9", "2001:db8:0:1:"]


def journey(url: str, forwarded: str) -> None:
    """A visitor does everything the site offers, from behind one proxy."""
    client = HttpClient(url)
    client.opener.addheaders = [("X-Forwarded-For", forwarded)]
    for path in ("/", "/topic/news", "/drops/new", "/about", "/trending"):
        assert client.get(path)[0] == 200
    status, _, body = client.post("/api/rooms", solved(client))
    assert status == 201, body
    room = json.loads(body)["room"]
    assert client.get(f"/r/{room}")[0] == 200
    status, _, body = client.post("/api/posts", {"room": room, "blob": blob(), **solved(client)})
    assert status == 201, body
    status, _, body = client.post("/api/posts", {"topic": "news", "blob": blob(), **solved(client)})
    assert status == 201, body
    post_id = json.loads(body)["id"]
    status, _, body = client.post(
        f"/api/posts/{post_id}/comments", {"blob": blob(), **solved(client)}
    )
    assert status == 201, body
    comment_id = json.loads(body)["id"]
    flag = {"type": "post", "id": post_id, "reason": "spam", **solved(client)}
    assert client.post("/api/flags", flag)[0] == 202
    flag = {"type": "comment", "id": comment_id, "reason": "other", **solved(client)}
    assert client.post("/api/flags", flag)[0] == 202
    assert client.get(f"/post/{post_id}")[0] == 200
    status, _, body = client.post("/api/drops", {"text": "hello", **solved(client)})
    assert status == 201, body
    drop = json.loads(body)
    assert client.get(f"/d/{drop['id']}")[0] == 200
    assert client.post(f"/api/drops/{drop['id']}/open", {"key": "WRONG"})[0] == 403
    assert client.post(f"/api/drops/{drop['id']}/open", {"key": drop["keys"][0]})[0] == 200
    assert client.get(urlsplit(drop["receipt_url"]).path)[0] == 200
    assert client.get("/api/posts?topic=news")[0] == 200
    asyncio.run(live_socket(url, forwarded))


async def live_socket(url: str, forwarded: str) -> None:
    import websockets

    address = url.replace("http://", "ws://") + "/ws/feed/"
    async with websockets.connect(
        address, origin=url, additional_headers={"X-Forwarded-For": forwarded}
    ) as socket:
        assert json.loads(await socket.recv())["event"] == "session:ready"
        await socket.send(json.dumps({"event": "topic:join", "payload": {"topic": "news"}}))
        assert json.loads(await socket.recv())["event"] == "topic:joined"


def test_no_client_address_reaches_redis_or_the_logs():
    web = DaphneServer(env={"TRUSTED_PROXY_COUNT": "1", "DEBUG": "false"}).start()
    try:
        journey(web.url, "203.0.113.9")
        journey(web.url, "2001:db8:0:1::9")
        stored = everything_in_redis()
    finally:
        printed = web.stop()
    assert len(stored) > 1000  # the journey really wrote things
    for address in ADDRESSES:
        assert address.encode() not in stored, address
        assert address not in printed, address
    assert b"127.0.0.1" not in stored  # nor the socket's own address
    assert_no_server_error(printed)
