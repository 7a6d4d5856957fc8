"""Scripts take their URLs and the flag reasons from the page (base.html's
json_script block), not from paths written into static/: change the block and
the scripts follow it."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def rewrite_config(page, path: str, change) -> None:
    """Serve ``path`` with its client-config block passed through ``change``."""

    def handler(route):
        response = route.fetch()
        html = response.text()
        start = html.index('<script id="client-config" type="application/json">')
        start = html.index(">", start) + 1
        end = html.index("</script>", start)
        config = change(json.loads(html[start:end]))
        route.fulfill(response=response, body=html[:start] + json.dumps(config) + html[end:])

    page.route(f"**{path}", handler)


def test_the_feed_reads_its_api_url_from_the_page(new_page):
    page = new_page(None)

    def wrong_feed(config):
        config["urls"]["api-posts"] = "/api/nowhere"
        return config

    rewrite_config(page, "/topic/news", wrong_feed)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/topic/news")
    # The script asked where the block said, and says it could not load.
    expect(page.locator("[data-empty]")).to_contain_text("Could not load posts")
    assert any("/api/nowhere?topic=news" in url for url in asked)
    assert not any("/api/posts" in url for url in asked)


def test_flag_reasons_are_the_servers_list(new_page, live_server_url):
    from tests.e2e.test_boards_catch_up import Writer

    Writer(live_server_url).post("a post to flag", topic="science")
    page = new_page(None)

    def one_reason(config):
        config["flag_reasons"] = [{"reason": "spam", "label": "Only this reason"}]
        return config

    rewrite_config(page, "/topic/science", one_reason)
    page.goto("/topic/science")
    page.locator(".post .flag-menu summary").first.click()
    buttons = page.locator(".post .flag-options button")
    expect(buttons).to_have_text(["Only this reason"])
    expect(buttons.first).to_have_attribute("data-reason", "spam")
