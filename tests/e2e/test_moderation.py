"""Community flags in the real browser: flags from three client networks hide a
post live for a fourth visitor; one network's flags, however many visitors, never do.

The site sits behind one (pretend) proxy here, so each browser context names its
own client address in X-Forwarded-For, as a proxy would for visitors from
different networks.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import DaphneServer, watch

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proxied_url():
    server = DaphneServer(env={"TRUSTED_PROXY_COUNT": "1"}).start()
    yield server.url
    server.stop()


@pytest.fixture
def visit(browser, proxied_url):
    """Open a page as a visitor from ``address`` (a fresh browser context)."""
    contexts = []

    def make(path: str, address: str, viewport: dict | None = None):
        context = browser.new_context(
            base_url=proxied_url,
            extra_http_headers={"X-Forwarded-For": address},
            **({"viewport": viewport} if viewport else {}),
        )
        contexts.append(context)
        page = context.new_page()
        page.problems = watch(page)
        page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live")


def flag_first_post(page, reason: str, *, confirmed: bool = True) -> None:
    post = page.locator(".post").first
    post.get_by_text("Flag", exact=True).click()
    post.get_by_role("button", name=reason).click()
    if confirmed:
        expect(post.locator(".flag .status")).to_contain_text("Flagged")


def write_post(page, text: str) -> None:
    wait_live(page)
    page.get_by_label("Write a post").fill(text)
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".post .body").first).to_have_text(text)


def test_three_networks_flags_hide_a_post_live_for_a_fourth_visitor(visit, settings):
    assert settings.FLAG_HIDE_THRESHOLD == 3
    writer = visit("/topic/culture", "192.0.2.10")
    write_post(writer, "Buy cheap watches here")
    watcher = visit("/topic/culture", "192.0.2.11")
    wait_live(watcher)
    expect(watcher.locator(".post .body")).to_have_text(["Buy cheap watches here"])

    networks = ["198.51.100.20", "203.0.113.20", "2001:db8:20::1"]
    flaggers = [visit("/topic/culture", address) for address in networks]
    for page in flaggers[:2]:
        flag_first_post(page, "Spam")
    # Two networks are not enough: the post is still there for everyone.
    expect(watcher.locator(".post")).to_have_count(1)
    # The third network's flag hides it at once, on the flagger's own page too.
    flag_first_post(flaggers[2], "Malware or phishing", confirmed=False)

    expect(watcher.locator(".post")).to_have_count(0)
    expect(writer.locator(".post")).to_have_count(0)
    expect(flaggers[2].locator(".post")).to_have_count(0)
    fresh = visit("/topic/culture", "192.0.2.12")
    expect(fresh.locator("[data-empty]")).to_be_visible()
    for page in (writer, watcher, *flaggers, fresh):
        assert page.problems == []


def test_many_visitors_of_one_network_do_not_hide_a_post(visit):
    writer = visit("/topic/science", "192.0.2.30")
    write_post(writer, "An unpopular opinion")
    # Four visitors, four sessions, four addresses: one /24.
    for n in range(4):
        flag_first_post(visit("/topic/science", f"203.0.113.{40 + n}"), "Spam")
    fresh = visit("/topic/science", "192.0.2.31")
    expect(fresh.locator(".post .body")).to_have_text(["An unpopular opinion"])
    expect(writer.locator(".post")).to_have_count(1)


def test_the_flag_menu_works_from_the_keyboard(visit):
    page = visit("/topic/sport", "192.0.2.50")
    write_post(page, "Keyboard only")
    summary = page.locator(".post .flag-menu > summary").first
    summary.focus()
    page.keyboard.press("Enter")
    harassment = page.locator(".post").first.get_by_role("button", name="Harassment")
    expect(harassment).to_be_visible()
    harassment.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".post .flag .status").first).to_contain_text("Flagged")
    assert page.problems == []


# Every element the point at its centre shows, or what covers it there.
UNCOVERED = """buttons => buttons.map(b => {
  const r = b.getBoundingClientRect();
  const seen = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return seen === b || b.contains(seen);
})"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_flag_menu_under_the_sticky_top_bar_opens_where_it_can_be_read(visit, viewport):
    """A post scrolled up to just under the top bar: its menu of reasons would open
    above the link, behind the bar; it opens below instead, every reason in view."""
    page = visit("/topic/culture", "192.0.2.51", viewport)
    for text in ("Older", "Newer", "Newest"):
        write_post(page, text)
    post = page.locator(".post").nth(1)
    summary = post.locator(".flag-menu > summary")
    page.evaluate(
        """([link, bar]) => window.scrollBy(0, link.getBoundingClientRect().top
            - bar.getBoundingClientRect().bottom - 20)""",
        [summary.element_handle(), page.locator(".topbar").element_handle()],
    )
    summary.click()
    reasons = post.locator(".flag-options button")
    expect(reasons.first).to_be_visible()
    assert all(page.evaluate(UNCOVERED, reasons.element_handles()))
    assert page.problems == []
