"""Scripts take their URLs and the flag reasons from the page (base.html's
json_script block), not from paths written into static/: change the block and
the scripts follow it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def rewrite_config(page, change: str) -> None:
    """Run the JavaScript ``change`` on the page's config block (as ``config``) once
    the page is parsed and before its module scripts run (they run after the
    document turns "interactive"), as a server handing other values would."""
    page.add_init_script(
        """
        document.addEventListener("readystatechange", () => {
          if (document.readyState !== "interactive") return;
          const block = document.getElementById("client-config");
          const config = JSON.parse(block.textContent);
          CHANGE;
          block.textContent = JSON.stringify(config);
        });
        """.replace("CHANGE", change)
    )


def test_the_feed_reads_its_api_url_from_the_page(new_page):
    page = new_page(None)
    rewrite_config(page, 'config.urls["api-posts"] = "/api/nowhere"')
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
    rewrite_config(page, 'config.flag_reasons = [{reason: "spam", label: "Only this reason"}]')
    page.goto("/topic/science")
    page.locator(".post .flag-menu summary").first.click()
    buttons = page.locator(".post .flag-options button")
    expect(buttons).to_have_text(["Only this reason"])
    expect(buttons.first).to_have_attribute("data-reason", "spam")
