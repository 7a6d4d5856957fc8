"""Keyboard-only journeys in the real browser: write a post, open a drop, record a
voice note, with Tab, Enter and Space (and the arrow keys the tab list is built
for), the focus visible at every stop; live arrivals are announced politely and
never take the focus; the recorder shows a level meter and says the elapsed time."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_boards_catch_up import Writer, topic_key
from tests.e2e.test_drops_sealed import _api_drop

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("A11Y_SHOTS", "/tmp/a11y-shots"))

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow !== "none";
  // Inside a player's own controls the browser draws the ring on its shadow parts.
  const player = el.matches("audio[controls], video[controls]") && !el.matches(":focus");
  return {
    name: `${el.tagName.toLowerCase()}#${el.id} ${(el.textContent || "").trim().slice(0, 30)}`,
    visible: player || (el.matches(":focus-visible") && (outline || ring)),
  };
}"""


@pytest.fixture
def keyboard_page(browser, live_server_url):
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    yield page
    context.close()


def focus_ring(page: Page) -> dict:
    """What has the focus, and whether a focus indicator is drawn around it."""
    found = page.evaluate(FOCUSED)
    assert found, "the focus fell to the page"
    assert found["visible"], f"no visible focus on {found['name']}"
    return found


def tab_to(page: Page, selector: str, *, presses: int = 40, back: bool = False) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``selector`` has the focus; every
    stop on the way shows it."""
    for _ in range(presses):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focus_ring(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_writing_a_post_with_the_keyboard_and_hearing_a_live_one(keyboard_page, live_server_url):
    page = keyboard_page
    page.goto("/topic/news")
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=30000)
    page.keyboard.press("Tab")
    assert focus_ring(page)["name"].startswith("a# Skip to content")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, "#composer-text")
    page.keyboard.type("typed, never clicked")
    tab_to(page, ".composer button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".post .body")).to_have_text(["typed, never clicked"], timeout=20000)

    # Someone else posts while this reader is halfway through the next one.
    tab_to(page, "#composer-text", back=True)
    page.keyboard.type("half a thou")
    Writer(live_server_url).post("from somebody else", topic="news")
    expect(page.locator(".post .body").first).to_have_text("from somebody else", timeout=20000)
    announced = page.locator("[data-live-announce]")
    expect(announced).to_have_text("A new post arrived.")
    assert announced.get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "composer-text"
    assert page.input_value("#composer-text") == "half a thou"
    assert page.problems == []


def test_a_live_comment_is_announced_without_moving_the_focus(keyboard_page, live_server_url):
    page = keyboard_page
    writer = Writer(live_server_url)
    made = writer.post("a thread", topic="news")
    page.goto(f"/post/{made['id']}")
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=30000)
    tab_to(page, "#composer-text")
    page.keyboard.type("my answer is")
    writer.comment(made, "first!", topic_key("news"))
    writer.comment(made, "second!", topic_key("news"))
    expect(page.locator(".comment .body")).to_have_text(["first!", "second!"], timeout=20000)
    # Said once for a burst (the two may land in one announcement or in two).
    expect(page.locator("[data-live-announce]")).to_have_text(
        re.compile(r"^(A new comment|2 new comments) arrived\.$")
    )
    assert page.evaluate("document.activeElement.id") == "composer-text"
    assert page.input_value("#composer-text") == "my answer is"
    assert page.problems == []


def test_opening_a_drop_with_the_keyboard(keyboard_page, live_server_url):
    page = keyboard_page
    drop = _api_drop(live_server_url, text="read without a mouse")
    page.goto("/d/" + drop["url"].rsplit("/d/", 1)[1])
    tab_to(page, "#key")
    page.keyboard.type(drop["keys"][0])
    page.keyboard.press("Enter")
    expect(page.locator("[data-message]")).to_have_text("read without a mouse", timeout=20000)
    # The page moves the focus to what was opened, and the next Tab goes on from there.
    assert page.evaluate("document.activeElement.tagName") == "H1"
    page.keyboard.press("Tab")
    focus_ring(page)
    assert page.problems == []


def test_recording_a_voice_note_with_the_keyboard(keyboard_page):
    page = keyboard_page
    page.goto("/drops/new")
    tab_to(page, "#tab-text")
    page.keyboard.press("ArrowRight")  # the tab list's own keys (WAI-ARIA tabs pattern)
    assert page.evaluate("document.activeElement.id") == "tab-voice"
    focus_ring(page)
    expect(page.locator("#voice-pane")).to_be_visible()
    tab_to(page, "#record")
    page.keyboard.press("Space")

    # Stop takes the focus; the meter follows the (fake) microphone; the clock runs
    # silently and a polite region says the time at sensible intervals.
    expect(page.locator("#stop")).to_be_focused()
    focus_ring(page)
    announced = page.locator("#rec-announce")
    assert announced.get_attribute("aria-live") == "polite"
    expect(announced).to_contain_text("Recording.")
    page.wait_for_function("() => document.getElementById('rec-level').value > 0.02", timeout=5000)
    levels = page.evaluate(
        """async () => {
            const seen = [];
            for (let i = 0; i < 10; i++) {
                seen.push(document.getElementById("rec-level").value);
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return seen;
        }"""
    )
    assert len(set(levels)) > 1, levels  # it moves with the sound
    assert page.get_attribute("#rec-clock", "aria-live") == "off"
    expect(announced).to_have_text("Recording: 10 seconds of 60.", timeout=15000)
    expect(page.locator("#rec-clock")).to_have_text("0:10")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "keyboard-recording.png")
    page.keyboard.press("Enter")

    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#preview")).to_be_focused()
    expect(announced).to_contain_text("Recorded 1")
    assert page.evaluate("document.getElementById('rec-level').value") == 0
    page.screenshot(path=SHOTS / "keyboard-recorded.png")
    page.keyboard.press("Tab")
    page.screenshot(path=SHOTS / "keyboard-player-control.png")
    tab_to(page, "#create")
    page.keyboard.press("Enter")
    page.wait_for_selector("#share:not([hidden])", timeout=30000)
    expect(page.locator("#share-title")).to_be_focused()
    page.keyboard.press("Tab")
    focus_ring(page)
    page.screenshot(path=SHOTS / "keyboard-shared.png")
    assert page.problems == []
