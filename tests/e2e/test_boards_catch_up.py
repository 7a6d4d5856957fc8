"""Exact catch-up after any gap, in the real browser against two real daphne
processes on one Redis: a page whose server went away gets every post or comment
made meanwhile exactly once, in order, without a reload, without moving the
reader's place on screen or touching what they are typing."""

from __future__ import annotations

import base64
import os
import secrets

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from playwright.sync_api import expect

from tests.conftest import DaphneServer, HttpClient, RedisServer
from tests.pow import solve

pytestmark = pytest.mark.browser

KEY_CHECK_TEXT = "nullboard room key check v1"  # static/boards/crypto.js


# --- The browser's format, written from Python (another client of the same API) ---


def topic_key(slug: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"nullboard/topic-key/v1",
        info=b"nullboard aes-256-gcm post key",
    ).derive(slug.encode())


def seal(key: bytes, text: str) -> str:
    iv = os.urandom(12)
    return base64.b64encode(b"\x01" + iv + AESGCM(key).encrypt(iv, text.encode(), None)).decode()


def new_room_secret() -> tuple[bytes, str]:
    raw = secrets.token_bytes(32)
    return raw, base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Writer:
    """Posts and comments through one server, as another visitor would."""

    def __init__(self, url: str) -> None:
        self.http = HttpClient(url)
        status, _, _ = self.http.get("/")
        assert status == 200

    def work(self) -> dict:
        import json

        status, _, body = self.http.post("/api/session")
        assert status == 200, body
        data = json.loads(body)
        return {
            "pow_challenge": data["pow_challenge"],
            "pow_nonce": solve(data["pow_challenge"], data["pow_difficulty"]),
        }

    def send(self, path: str, body: dict) -> dict:
        import json

        status, _, answer = self.http.post(path, {**body, **self.work()})
        assert status == 201, answer
        return json.loads(answer)

    def post(self, text: str, *, topic: str | None = None, room=None) -> dict:
        if room:
            raw, _secret, room_id = room
            return self.send("/api/posts", {"room": room_id, "blob": seal(raw, text)})
        return self.send("/api/posts", {"topic": topic, "blob": seal(topic_key(topic), text)})

    def comment(self, post: dict, text: str, key: bytes) -> dict:
        return self.send(f"/api/posts/{post['id']}/comments", {"blob": seal(key, text)})

    def room(self) -> tuple[bytes, str, str]:
        raw, secret = new_room_secret()
        made = self.send("/api/rooms", {"key_check": seal(raw, KEY_CHECK_TEXT)})
        return raw, secret, made["room"]


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=30000)


def restart(server: DaphneServer) -> DaphneServer:
    server.stop()
    again = DaphneServer(port=server.port, env=server.env_extra)
    again.env_extra = server.env_extra
    return again.start()


def daphne(env: dict | None = None) -> DaphneServer:
    server = DaphneServer(env=env)
    server.env_extra = env or {}
    return server.start()


@pytest.fixture
def two_servers():
    """Two daphne processes on the test Redis: ``a`` serves the page, ``b`` the writer."""
    servers = [daphne(), daphne()]
    yield servers
    for server in servers:
        server.stop()


def reader_page(browser, url: str, path: str):
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.goto(path)
    return context, page


def scroll_to_middle(page, locator):
    """Scroll so ``locator`` sits mid-screen; return its top on screen."""
    locator.evaluate(
        "node => window.scrollTo(0, window.scrollY + node.getBoundingClientRect().top - 300)"
    )
    page.wait_for_function("window.scrollY > 100")
    return locator.bounding_box()["y"]


def hold_a_draft(page, text: str) -> None:
    area = page.locator("#composer-text")
    area.fill(text)
    area.focus()


def assert_draft_kept(page, text: str) -> None:
    assert page.locator("#composer-text").input_value() == text
    assert page.evaluate("document.activeElement && document.activeElement.id") == "composer-text"


@pytest.mark.parametrize("where", ["home", "topic", "room"])
def test_a_feed_gets_what_was_posted_while_its_server_was_down(browser, two_servers, where):
    a, b = two_servers
    writer = Writer(b.url)
    room = writer.room() if where == "room" else None
    target = {"room": room} if room else {"topic": "science"}
    for n in range(12):
        writer.post(f"earlier post {n}", **target)
    path = {"home": "/", "topic": "/topic/science"}.get(where) or f"/r/{room[2]}#k={room[1]}"
    context, page = reader_page(browser, a.url, path)
    try:
        wait_live(page)
        expect(page.locator(".post")).to_have_count(12)
        hold_a_draft(page, "half a thought")
        anchor = page.locator(".post", has_text="earlier post 5")
        top = scroll_to_middle(page, anchor)

        a.stop()
        expect(page.locator("[data-live-status]")).to_contain_text("paused")
        missed = [writer.post(f"missed while away {n}", **target) for n in range(3)]
        a = two_servers[0] = restart(a)
        wait_live(page)

        # Each missed post once, newest first above what was held, with no reload.
        bodies = page.locator(".post .body")
        expect(bodies).to_have_count(15)
        expect(bodies.nth(0)).to_have_text("missed while away 2")
        expect(bodies.nth(1)).to_have_text("missed while away 1")
        expect(bodies.nth(2)).to_have_text("missed while away 0")
        expect(bodies.nth(3)).to_have_text("earlier post 11")
        for post in missed:
            assert page.locator(f'li[data-id="{post["id"]}"]').count() == 1
        assert abs(anchor.bounding_box()["y"] - top) <= 1  # the reader's place did not move
        assert_draft_kept(page, "half a thought")
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        # A live post after the catch-up still arrives once, on top.
        writer.post("live again", **target)
        expect(bodies.nth(0)).to_have_text("live again")
        expect(bodies).to_have_count(16)
        assert page.problems == []
    finally:
        context.close()


def test_a_post_page_gets_the_comments_made_while_its_server_was_down(browser, two_servers):
    a, b = two_servers
    writer = Writer(b.url)
    post = writer.post("a post to discuss", topic="culture")
    key = topic_key("culture")
    for n in range(8):
        writer.comment(post, f"early comment {n}", key)
    context, page = reader_page(browser, a.url, f"/post/{post['id']}")
    try:
        wait_live(page)
        expect(page.locator(".comment")).to_have_count(8)
        hold_a_draft(page, "my reply, not sent yet")
        composer = page.locator("[data-composer]")
        composer.evaluate("node => node.scrollIntoView({block: 'end'})")
        page.wait_for_function("window.scrollY > 100")
        top = composer.bounding_box()["y"]
        a.stop()
        expect(page.locator("[data-live-status]")).to_contain_text("paused")
        for n in range(2):
            writer.comment(post, f"missed comment {n}", key)
        a = two_servers[0] = restart(a)
        wait_live(page)
        bodies = page.locator(".comment .body")
        expect(bodies).to_have_count(10)
        assert bodies.all_text_contents()[-3:] == [
            "early comment 7",
            "missed comment 0",
            "missed comment 1",
        ]
        expect(page.locator(".post .comment-count")).to_have_text("10 comments")
        assert abs(composer.bounding_box()["y"] - top) <= 1  # the reply box stayed put
        assert_draft_kept(page, "my reply, not sent yet")
        assert page.problems == []
    finally:
        context.close()


def test_a_page_catches_up_across_a_redis_outage(browser):
    store = RedisServer().start()
    env = {"REDIS_URL": store.url}
    servers = [daphne(env), daphne(env)]
    a, b = servers
    context = None
    try:
        Writer(b.url).post("before the outage", topic="news")
        context, page = reader_page(browser, a.url, "/topic/news")
        wait_live(page)
        expect(page.locator(".post .body")).to_have_text(["before the outage"])
        hold_a_draft(page, "typing through it")
        store.stop()
        expect(page.locator("[data-live-status]")).to_contain_text("paused", timeout=30000)
        store.start()  # same port, empty: a failover to a fresh replica looks like this
        made = Writer(b.url).post("after the outage", topic="news")
        wait_live(page)
        expect(page.locator(".post .body")).to_have_text(["after the outage", "before the outage"])
        assert page.locator(f'li[data-id="{made["id"]}"]').count() == 1
        assert_draft_kept(page, "typing through it")
        assert page.problems == []
    finally:
        if context:
            context.close()
        for server in servers:
            server.stop()
        store.stop()
