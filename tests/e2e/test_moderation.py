"""Community flags in the real browser: three visitors' flags hide a post live
for a fourth."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live")


def flag_first_post(page, reason: str, *, confirmed: bool = True) -> None:
    post = page.locator(".post").first
    post.get_by_text("Flag", exact=True).click()
    post.get_by_role("button", name=reason).click()
    if confirmed:
        expect(post.locator(".flag .status")).to_have_text("Flagged. Thank you.")


def test_three_flags_hide_a_post_live_for_a_fourth_visitor(new_page, settings):
    assert settings.FLAG_HIDE_THRESHOLD == 3
    writer = new_page("/topic/culture")
    wait_live(writer)
    writer.get_by_label("Write a post").fill("Buy cheap watches here")
    writer.get_by_role("button", name="Post").click()
    expect(writer.locator(".post .body")).to_have_text(["Buy cheap watches here"])

    watcher = new_page("/topic/culture")
    wait_live(watcher)
    expect(watcher.locator(".post .body")).to_have_text(["Buy cheap watches here"])

    flaggers = [new_page("/topic/culture") for _ in range(3)]
    for page in flaggers[:2]:
        flag_first_post(page, "Spam")
    # Two flags are not enough: the post is still there for everyone.
    expect(watcher.locator(".post")).to_have_count(1)
    # The third flag hides it at once, on the flagger's own page too.
    flag_first_post(flaggers[2], "Malware or phishing", confirmed=False)

    expect(watcher.locator(".post")).to_have_count(0)
    expect(writer.locator(".post")).to_have_count(0)
    expect(flaggers[2].locator(".post")).to_have_count(0)
    fresh = new_page("/topic/culture")
    expect(fresh.locator("[data-empty]")).to_be_visible()
    for page in (writer, watcher, *flaggers, fresh):
        assert page.problems == []


def test_the_flag_menu_works_from_the_keyboard(new_page):
    page = new_page("/topic/sport")
    wait_live(page)
    page.get_by_label("Write a post").fill("Keyboard only")
    page.get_by_role("button", name="Post").click()
    summary = page.locator(".post .flag-menu > summary").first
    summary.focus()
    page.keyboard.press("Enter")
    harassment = page.locator(".post").first.get_by_role("button", name="Harassment")
    expect(harassment).to_be_visible()
    harassment.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".post .flag .status").first).to_have_text("Flagged. Thank you.")
    assert page.problems == []
