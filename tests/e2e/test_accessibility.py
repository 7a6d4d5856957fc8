"""axe-core (bundled by axe-playwright-python, never fetched) over every page and state
of the site, in light and dark, on a desktop and a phone, per language: zero
violations, WCAG 2.2 AA rules included. Adding a language is one line in LANGUAGES.

One browser for the module (the suite's), one context per combination; each
combination makes its own content because every test starts on an empty store."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_boards_catch_up import Writer, topic_key

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "fa"]
SCHEMES = ["light", "dark"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],  # details for violations only: much faster
}
# Full-page screenshots of every state, to look at: A11Y_SHOTS=/some/folder (off by default:
# they double the run time).
SHOTS = Path(os.environ["A11Y_SHOTS"]) if os.environ.get("A11Y_SHOTS") else None


def axe_script() -> Path:
    """axe-core as bundled by axe-playwright-python (a dev requirement; never a CDN)."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


def with_axe(context) -> None:
    """Load axe-core into every page of ``context`` before the page's own scripts
    (an init script: the site's CSP, rightly, allows no other way in)."""
    context.add_init_script(path=axe_script())


def axe_violations(page: Page) -> list[str]:
    """One line per violation: rule, impact and the first few offending nodes."""
    found = []
    for violation in page.evaluate("(rules) => axe.run(document, rules)", RULES)["violations"]:
        nodes = "; ".join(
            f"{node['target']} ({node.get('failureSummary', '').splitlines()[-1].strip()})"
            for node in violation["nodes"][:4]
        )
        found.append(
            f"{violation['id']} [{violation['impact']}] x{len(violation['nodes'])}: {nodes}"
        )
    return found


class Visit:
    """Checks each state of one combination and keeps every violation found."""

    def __init__(self, context, lang: str, name: str) -> None:
        self.context = context
        self.lang = lang
        self.name = name
        self.found: dict[str, list[str]] = {}
        self.page = context.new_page()
        self.scheme = "dark" if "-dark-" in name else "light"

    def check(self, state: str, page: Page | None = None) -> None:
        page = page or self.page
        # The page really is in the language asked for.
        lang = page.evaluate("document.documentElement.lang")
        assert lang.split("-")[0] == self.lang, (state, lang)
        dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (self.scheme == "dark"), state
        if SHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"{self.name}-{state}.png", full_page=True)
        violations = axe_violations(page)
        if violations:
            self.found[state] = violations

    def go(self, path: str, state: str, ready: Callable[[Page], None] | None = None) -> Page:
        self.page.goto(path)
        if ready:
            ready(self.page)
        self.check(state)
        return self.page


def live(page: Page) -> None:
    # Subscribed, in any language ("Live", "زنده"...): the label's state says so.
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "ok", timeout=30000)


def posts_shown(page: Page) -> None:
    live(page)
    expect(page.locator(".post .body").first).to_be_visible(timeout=20000)


def unavailable_page(lang: str) -> str:
    """The 503 page as the middleware renders it during a store outage (no request
    to read, so in the language active for the request that failed)."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(lang):
        return render_to_string("nullboard/503.html", request=None)


def share(page: Page) -> dict:
    page.wait_for_selector("#share:not([hidden])", timeout=30000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-reader] [data-reader-qr] svg').length === 3"
    )
    return {
        "path": "/d/" + page.input_value("[data-share-link]").rsplit("/d/", 1)[1],
        "keys": page.locator("[data-reader-key]").all_inner_texts(),
        "receipt": page.get_attribute("[data-share-receipt]", "href"),
    }


def open_drop(visit: Visit, drop: dict, state: str, opened: str) -> None:
    visit.go(drop["path"], f"key-form-{state}")
    visit.page.fill("#key", drop["keys"][0])
    visit.page.click("#open-form button[type=submit]")
    visit.page.wait_for_selector(opened)
    visit.check(f"opened-{state}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_and_state_has_no_axe_violation(
    browser, live_server_url, lang, scheme, viewport
):
    writer = Writer(live_server_url)
    made = writer.post("an accessible post", topic="news")
    writer.comment(made, "an accessible comment", topic_key("news"))
    room = writer.room()
    context = browser.new_context(
        base_url=live_server_url,
        viewport=VIEWPORTS[viewport],
        color_scheme=scheme,
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
    )
    with_axe(context)
    try:
        visit = Visit(context, lang, f"{lang}-{scheme}-{viewport}")
        visit.go("/", "home", posts_shown)
        page = visit.go("/topic/news", "topic", posts_shown)
        page.locator(".post .flag-menu summary").first.click()
        expect(page.locator(".post .flag-options").first).to_be_visible()
        visit.check("flag-menu-open")
        visit.go(f"/post/{made['id']}", "post", posts_shown)
        visit.go("/trending", "trending")
        visit.go(f"/r/{room[2]}#k={room[1]}", "room-with-key", live)
        visit.go(
            f"/r/{room[2]}",
            "room-without-key",
            lambda p: expect(p.locator("[data-missing-key]")).to_be_visible(),
        )
        visit.go("/rooms", "rooms")
        visit.go("/about", "about")
        visit.go("/rules", "rules")
        visit.go("/moderation", "moderation-log")
        page = visit.go("/no-such-page", "not-found")
        page.route(
            "**/__unavailable__",
            lambda route: route.fulfill(
                status=503, content_type="text/html; charset=utf-8", body=unavailable_page(lang)
            ),
        )
        visit.go("/__unavailable__", "unavailable")
        page.unroute("**/__unavailable__")

        # Drops: the text tab, a text drop's share page, its key form and message.
        page = visit.go("/drops/new", "new-drop-text")
        page.fill("#drop-text", "an accessible drop")
        page.select_option("#drop-life", "300")
        page.click("#create")
        text_drop = share(page)
        visit.check("share")
        open_drop(visit, text_drop, "text", "#opened:not([hidden])")
        visit.go(text_drop["receipt"], "receipt")
        visit.go("/d/AAAAAAAAAAAAAAAA", "gone")

        # The voice tab while recording (meter and clock running), then the player.
        page = visit.go("/drops/new", "new-drop-voice-ready", lambda p: p.click("#tab-voice"))
        page.click("#record")
        # A second recorded: the clock shows a digit other than zero (in any script).
        expect(page.locator("#rec-clock")).to_have_text(
            re.compile("[1-9\u06f1-\u06f9\u0661-\u0669]")
        )
        visit.check("new-drop-voice-recording")
        page.click("#stop")
        page.wait_for_selector("#preview:not([hidden])")
        visit.check("new-drop-voice-recorded")
        page.select_option("#drop-life", "300")
        page.click("#create")
        voice_drop = share(page)
        open_drop(visit, voice_drop, "voice", "[data-player]:not([hidden])")
    finally:
        context.close()
    report = "\n".join(f"{state}:\n  " + "\n  ".join(lines) for state, lines in visit.found.items())
    assert not visit.found, f"axe violations ({lang}, {scheme}, {viewport}):\n{report}"


def test_the_check_catches_what_it_should(browser, live_server_url):
    """The rule set is live, WCAG 2.2 included: a field with no label and two 12 px
    buttons side by side are reported (target-size is a WCAG 2.2 AA rule)."""
    context = browser.new_context(base_url=live_server_url, viewport=VIEWPORTS["phone"])
    with_axe(context)
    try:
        page = context.new_page()
        page.goto("/about")
        page.evaluate(
            """() => {
                const main = document.getElementById("main");
                main.append(document.createElement("input"));
                for (const text of ["a", "b"]) {
                    const button = document.createElement("button");
                    button.textContent = text;
                    Object.assign(button.style, {
                        width: "12px", height: "12px", minHeight: "0", padding: "0",
                        margin: "0", fontSize: "8px", lineHeight: "8px",
                    });
                    main.append(button);
                }
            }"""
        )
        found = {line.split(" ", 1)[0] for line in axe_violations(page)}
        assert {"label", "target-size"} <= found, found
    finally:
        context.close()
