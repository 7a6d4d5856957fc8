"""The live label tells the truth about the server's refusals: 4429 (too many
sockets from this network: wait longer) and 4013 (store outage: retry soon).

The real server side of these codes is the live helper's (issue 16); here the
page's socket is routed through Playwright so the refusal can be sent on cue,
and every attempt after it goes on to the real daphne."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def refuse_first(page, code: int, reason: str) -> list[float]:
    """Close the page's first socket with ``code`` after accepting it; pass the
    later ones through to the real server. Returns the attempts' times."""
    attempts: list[float] = []

    def handler(ws):
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            ws.close(code=code, reason=reason)
        else:
            ws.connect_to_server()

    page.route_web_socket("**/ws/feed/", handler)
    return attempts


def test_a_store_outage_close_says_so_and_retries_soon(new_page):
    page = new_page(None)
    attempts = refuse_first(page, 4013, "store unavailable")
    page.goto("/topic/news")
    expect(page.locator("[data-live-status]")).to_contain_text("storage is unavailable")
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=10000)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] < 5


def test_too_many_sockets_says_so_and_waits_longer(new_page):
    page = new_page(None)
    page.clock.install()  # the page's timers run on Playwright's clock
    attempts = refuse_first(page, 4429, "too many sockets from this client")
    page.goto("/topic/news")
    status = page.locator("[data-live-status]")
    expect(status).to_contain_text("too many live connections from your network")
    expect(status).to_contain_text("Retrying in 1")  # 15 s or more, counting down
    page.clock.run_for(14_000)
    # A retry would have said "Reconnecting…" before opening its socket.
    assert "too many live connections" in status.inner_text()
    assert len(attempts) == 1  # it did not hammer the server
    page.clock.run_for(3_000)  # the busy wait is 15 to 17 s
    expect(status).to_have_text("Live", timeout=10000)
    assert len(attempts) == 2


def test_a_reset_reconnects_at_once_and_catches_up(new_page, live_server_url):
    """The server drops an event (as when it resets the page's subscriptions) and
    closes with 4012: the page reconnects at once and fetches the post it missed."""
    from tests.e2e.test_boards_catch_up import Writer

    page = new_page(None)
    routes, attempts, deaf, dropped = [], [], [], []

    def handler(ws):
        attempts.append(time.monotonic())
        routes.append(ws)
        server = ws.connect_to_server()
        server.on_message(lambda message: dropped.append(message) if deaf else ws.send(message))

    page.route_web_socket("**/ws/feed/", handler)
    page.goto("/topic/politics")
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("Live")
    deaf.append(True)  # from now on the page hears nothing on this socket
    Writer(live_server_url).post("posted during the reset", topic="politics")
    for _ in range(200):  # until the post's event has come and been kept from the page
        if any("post:new" in str(message) for message in dropped):
            break
        page.wait_for_timeout(50)
    assert any("post:new" in str(message) for message in dropped), dropped
    expect(page.locator(".post")).to_have_count(0)
    deaf.clear()
    closed = time.monotonic()
    routes[0].close(code=4012, reason="reset")
    expect(status).to_have_text("Live", timeout=10000)
    assert len(attempts) == 2
    assert attempts[1] - closed < 1.5
    expect(page.locator(".post .body")).to_have_text(["posted during the reset"])
