"""A Redis outage seen from a real browser: the live feed says it is paused, then
reconnects by itself when Redis is back, with no reload and no restart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import DaphneServer
from tests.reliability.conftest import assert_no_server_error

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_the_live_feed_pauses_while_redis_is_down_and_recovers(browser, redis_server):
    web = DaphneServer(env={"REDIS_URL": redis_server.url}).start()
    context = browser.new_context(base_url=web.url)
    try:
        page = context.new_page()
        page.goto("/topic/environment")
        status = page.locator("[data-live-status]")
        expect(status).to_have_text("Live")

        redis_server.stop()
        other = context.new_page()
        assert other.goto("/topic/environment").status == 503
        assert "Back in a moment" in other.content()  # a friendly page, no traceback
        other.close()
        # The open page is told its live updates stopped (it would miss posts).
        expect(status).to_contain_text("paused", timeout=15_000)

        redis_server.start()  # same port, empty data; the page is not reloaded
        expect(status).to_have_text("Live", timeout=40_000)
        writer = context.browser.new_context(base_url=web.url).new_page()
        writer.goto("/topic/environment")
        writer.get_by_label("Write a post").fill("Back after the outage")
        writer.get_by_role("button", name="Post").click()
        expect(page.locator(".post .body")).to_have_text(["Back after the outage"])
        writer.context.close()
    finally:
        context.close()
        printed = web.stop()
    assert_no_server_error(printed, outage=True)
