"""Every way the live socket can close gets its own words and its own wait.

The page's socket is routed through Playwright: the first one is accepted and
closed with the code under test; later ones go on to the real daphne. 4429's
long wait and 4012's catch-up have their own tests in test_boards_live.py."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.test_boards_live import refuse_first
from tests.e2e.test_client_config import rewrite_config

pytestmark = pytest.mark.browser

# (code, what the label says, how soon the page is back at the most, in seconds)
RETRIED = [
    (1000, "the server closed the connection", 5),
    (1001, "the server is restarting", 5),
    (1011, "something went wrong on our side", 5),
    (1012, "the server is restarting", 5),
    (1013, "the server is busy", 5),
    (4012, "the server reset the connection", 1.5),
    (4013, "the server's storage is unavailable", 5),
]


@pytest.mark.parametrize(("code", "says", "within"), RETRIED)
def test_each_close_says_why_and_reconnects(new_page, code, says, within):
    page = new_page(None)
    attempts = refuse_first(page, code, "closed by the test")
    page.goto("/topic/news")
    status = page.locator("[data-live-status]")
    expect(status).to_contain_text(says)
    expect(status).to_contain_text("paused")
    expect(status).to_have_text("Live", timeout=10000)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] < within


def test_a_refusal_stops_and_says_to_reload(new_page):
    page = new_page(None)
    page.clock.install()  # the page's timers run on Playwright's clock
    attempts = refuse_first(page, 4403, "not from this site")
    page.goto("/topic/news")
    status = page.locator("[data-live-status]")
    expect(status).to_contain_text("refused this page's connection")
    expect(status).to_contain_text("Reload the page")
    page.clock.run_for(60_000)  # longer than any backoff; a retry says "Reconnecting…"
    assert "Reload the page" in status.inner_text()
    assert len(attempts) == 1  # no retry: it would be refused again
    expect(status).to_contain_text("Reload the page")


def test_a_socket_that_never_opens_says_it_could_not_connect(new_page):
    """A handshake refusal (another origin's, or no such route) reaches a page only
    as a close before open: the label says the server could not be reached, and the
    page keeps trying with its usual backoff."""
    page = new_page(None)
    page.clock.install()  # the page's timers run on Playwright's clock
    attempts: list[float] = []

    # The config block points the socket at a path with no WebSocket route.
    rewrite_config(page, 'config.live = "/ws/nowhere/"')
    page.on("websocket", lambda ws: attempts.append(time.monotonic()))
    page.goto("/topic/news")
    status = page.locator("[data-live-status]")
    expect(status).to_contain_text("could not connect to the server", timeout=10000)
    expect(status).to_contain_text("Retrying in")
    assert len(attempts) == 1
    page.clock.run_for(1_500)  # the first wait is 1 to 1.5 s
    expect(status).to_contain_text("could not connect to the server", timeout=10000)
    assert len(attempts) == 2
    # 1 s, then 2 s: backing off, not hammering. A retry would say "Reconnecting…".
    page.clock.run_for(1_500)
    assert "could not connect to the server" in status.inner_text()
    assert len(attempts) == 2
    page.clock.run_for(1_000)  # the second wait is 2 to 2.5 s
    expect(status).to_contain_text("could not connect to the server", timeout=10000)
    assert len(attempts) == 3
