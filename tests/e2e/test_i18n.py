"""Languages in the real browser: Persian right to left on a phone, the layout
mirrored, and the language menu working without JavaScript."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def context_for(browser, live_server_url):
    """Fresh browser contexts with a language and a screen size."""
    contexts = []

    def make(locale: str, viewport: dict, **options):
        context = browser.new_context(
            base_url=live_server_url, locale=locale, viewport=viewport, **options
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _open(context, path: str):
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path)
    page.errors = errors
    return page


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    """Saved beside the test's files, and where NB_SCREENSHOT_DIR says (to look at)."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if where := os.environ.get("NB_SCREENSHOT_DIR"):
        Path(where, name).write_bytes(path.read_bytes())
    return path


@pytest.mark.parametrize("path", ["/drops/new", "/"])
def test_a_persian_phone_gets_the_page_right_to_left(context_for, tmp_path, path):
    page = _open(context_for("fa-IR", PHONE), path)
    html = page.locator("html")
    assert html.get_attribute("lang") == "fa" and html.get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    heading = page.locator("h1").first.inner_text()
    assert any("\u0600" <= ch <= "\u06ff" for ch in heading), heading
    # Nothing spills sideways on a phone, in either direction.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot = _screenshot(page, tmp_path, f"fa-phone{path.replace('/', '-') or '-home'}.png")
    assert shot.stat().st_size > 10_000
    assert page.errors == []


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box, selector
    return box


def test_the_layout_mirrors_right_to_left(context_for):
    english = _open(context_for("en-GB", DESKTOP), "/")
    persian = _open(context_for("fa-IR", DESKTOP), "/")
    width = DESKTOP["width"]
    # The brand starts the top bar: on the left in English, on the right in Persian.
    en_brand, fa_brand = _box(english, ".brand"), _box(persian, ".brand")
    assert en_brand["x"] < width / 4
    assert fa_brand["x"] + fa_brand["width"] > width * 3 / 4
    # The "you and the topics" column swaps sides with the trending column.
    en_side, fa_side = _box(english, ".sidebar-left"), _box(persian, ".sidebar-left")
    assert en_side["x"] < width / 3 < fa_side["x"]
    assert _box(persian, ".sidebar-right")["x"] < width / 3
    assert english.errors == [] and persian.errors == []


def test_the_menu_switches_language_without_javascript(context_for):
    context = context_for("en-GB", PHONE, java_script_enabled=False)
    page = _open(context, "/about")
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#language-select", "fa")
    page.locator(".language-menu button[type=submit]").click()
    page.wait_for_url("**/about")
    assert page.locator("html").get_attribute("lang") == "fa"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert {c["name"] for c in context.cookies()} >= {"django_language"}
    assert page.locator("#language-select").input_value() == "fa"
    # And back to English from the Persian page.
    page.select_option("#language-select", "en")
    page.locator(".language-menu button[type=submit]").click()
    page.wait_for_url("**/about")
    assert page.locator("html").get_attribute("dir") == "ltr"


def test_scripts_find_the_catalog_of_the_page_language(context_for):
    page = _open(context_for("fa-IR", PHONE), "/")
    assert page.evaluate("typeof django.gettext") == "function"
    assert page.evaluate("django.gettext('Copied')") == "رونوشت شد"
    helpers = page.evaluate(
        """async () => {
            const i18n = await import('/static/js/i18n.js');
            return {
                lang: i18n.lang,
                text: i18n.t('Probe %(n)s', { n: 2 }),
                plural: i18n.nt('%(count)s probe', '%(count)s probes', 1234),
                clock: i18n.formatClock(65),
                number: i18n.formatNumber(1234),
                relative: i18n.formatRelative(1000 + 300, 1000),
            };
        }"""
    )
    # Numbers and times in the reader's locale: Persian digits, Persian words.
    assert helpers["lang"] == "fa"
    assert helpers["text"] == "Probe ۲"  # no such msgid: English, Persian digits
    assert helpers["plural"] == "۱٬۲۳۴ probes"
    assert helpers["clock"] == "۱:۰۵"
    assert helpers["number"] == "۱٬۲۳۴"
    assert "۵" in helpers["relative"] and "دقیقه" in helpers["relative"]
    assert page.errors == []


def _no_english(page) -> list[str]:
    """English msgids (of every domain, djangojs included) in what the page now shows."""
    from tests.nullboard.test_i18n import english_left

    return english_left(page.content())


def test_the_boards_scripts_speak_persian_on_a_feed_and_a_post(
    context_for, live_server_url, tmp_path
):
    """What the boards' scripts render (posts, counts, hide and flag controls, the
    composer's counter, the live label, live arrivals and their announcement, the
    flag menu open) is Persian: no English msgid left on a feed or a post page."""
    from tests.e2e.test_boards_catch_up import Writer, topic_key

    writer = Writer(live_server_url)
    first = writer.post("نخستین پست", topic="news")
    writer.comment(first, "نخستین نظر", topic_key("news"))

    page = _open(context_for("fa-IR", PHONE), "/topic/news")
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("زنده", timeout=30000)
    expect(page.locator(".post")).to_have_count(1)
    expect(page.locator(".post .comment-count")).to_have_text("۱ نظر")
    page.locator("[data-composer] textarea").fill("سلام")
    expect(page.locator("[data-char-count]")).to_have_text("۶۱۰۷ نویسه مانده")
    # A live arrival from another visitor, announced politely in Persian.
    writer.post("پست دوم", topic="news")
    expect(page.locator(".post")).to_have_count(2, timeout=10000)
    expect(page.locator("[data-live-announce]")).to_have_text("یک پست تازه رسید.", timeout=10000)
    page.locator(".post .flag-menu > summary").first.click()
    expect(page.locator(".post .flag-options").first).to_be_visible()
    assert _no_english(page) == []
    shot = _screenshot(page, tmp_path, "fa-phone-feed-posts.png")
    assert shot.stat().st_size > 10_000
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"/post/{first['id']}")
    expect(page.locator("[data-live-status]")).to_have_text("زنده", timeout=30000)
    expect(page.locator(".comment")).to_have_count(1)
    writer.comment(first, "نظر دوم", topic_key("news"))
    expect(page.locator(".comment")).to_have_count(2, timeout=10000)
    expect(page.locator(".post .comment-count")).to_have_text("۲ نظر")
    expect(page.locator("[data-live-announce]")).to_have_text("یک نظر تازه رسید.", timeout=10000)
    page.locator(".comment .flag-menu > summary").first.click()
    page.locator(".comment [data-composer], [data-composer]").first.locator(
        "button[type=submit]"
    ).click()
    expect(page.locator("[data-composer-status]")).to_have_text("نخست چیزی بنویسید.")
    assert _no_english(page) == []
    _screenshot(page, tmp_path, "fa-phone-post.png")
    assert page.errors == []


def test_the_english_check_sees_the_boards_scripts_english(context_for, live_server_url):
    """The check above is not vacuous: the same feed in English shows script strings it finds."""
    from tests.e2e.test_boards_catch_up import Writer

    Writer(live_server_url).post("first", topic="news")
    page = _open(context_for("en-GB", DESKTOP), "/topic/news")
    expect(page.locator(".post")).to_have_count(1, timeout=30000)
    page.locator(".post .flag-menu > summary").first.click()
    left = _no_english(page)
    assert {"Hide", "Flag", "Community rules", "comment"} & set(left), left
