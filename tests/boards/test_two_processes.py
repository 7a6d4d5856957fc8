"""Two daphne processes on one Redis: a post made through one reaches the other's
subscribers (channels-redis pub/sub carries the events)."""

from __future__ import annotations

import json
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests.conftest import DaphneServer
from tests.pow import solve

from .helpers import blob
from .wsclient import next_post, subscribe


class HttpClient:
    """Cookies and CSRF like a browser: GET / first, then write."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(base_url + "/", timeout=5).read()

    def post(self, path: str, body: dict) -> dict:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
            method="POST",
        )
        with self.opener.open(request, timeout=5) as response:
            return json.loads(response.read())

    def create_post(self, topic: str) -> dict:
        session = self.post("/api/session", {})
        nonce = solve(session["pow_challenge"], session["pow_difficulty"])
        body = {"topic": topic, "blob": blob(), "pow_challenge": session["pow_challenge"]}
        return self.post("/api/posts", {**body, "pow_nonce": nonce})


@pytest.fixture
def two_servers(real_redis):
    servers = [DaphneServer().start(), DaphneServer().start()]
    yield servers
    for server in servers:
        server.stop()


def test_a_post_through_one_process_reaches_subscribers_of_both(two_servers):
    first, second = two_servers
    on_first, on_second = subscribe(first, "news"), subscribe(second, "news")
    try:
        post = HttpClient(second.url).create_post("news")
        assert next_post(on_first) == post
        assert next_post(on_second) == post
        reply = HttpClient(first.url).create_post("news")
        assert next_post(on_second)["id"] == reply["id"]
        assert next_post(on_first)["id"] == reply["id"]
    finally:
        on_first.close()
        on_second.close()
    for server in two_servers:
        assert "Traceback" not in server.printed()
