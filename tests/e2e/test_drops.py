"""Drops in the real browser: write and record, share, open with a key, play, wipe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

KEY = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){6}$")


def _share(page) -> tuple[str, list[str]]:
    page.wait_for_selector("#share:not([hidden])", timeout=15_000)
    link = page.input_value("[data-share-link]")
    keys = page.locator("[data-share-keys] code").all_inner_texts()
    assert len(keys) == 3 and all(KEY.match(k) for k in keys)
    # The QR image loads after the section shows; it must load, not just be there.
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-share-qr]');"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=10_000,
    )
    return link, keys


def test_a_text_drop_from_writing_to_reading(new_page):
    writer = new_page("/drops/new")
    writer.fill("#drop-text", "the fern is in the blue pot")
    writer.click("#create")
    link, keys = _share(writer)
    drop_path = "/d/" + link.rsplit("/d/", 1)[1]

    reader = new_page(f"{drop_path}#key={keys[1]}")
    assert reader.input_value("#key") == keys[1]
    assert "#key" not in reader.url  # the key leaves the address bar
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    assert reader.inner_text("[data-message]") == "the fern is in the blue pot"
    assert "2 views left" in reader.inner_text("[data-views-left]")

    # The opened text is wiped from the page when its time runs out.
    reader.evaluate(
        "document.querySelector('[data-opened-expires]').dataset.expiresAt = Date.now() / 1000 + 1"
    )
    expect(reader.locator("[data-message]")).to_contain_text("wiped", timeout=5000)
    assert writer.problems == [] and reader.problems == []


def test_a_wrong_key_and_a_gone_drop_say_so(new_page):
    writer = new_page("/drops/new")
    writer.fill("#drop-text", "once")
    writer.select_option("#drop-views", "1")
    writer.click("#create")
    link, keys = _share(writer)
    reader = new_page("/d/" + link.rsplit("/d/", 1)[1])
    reader.fill("#key", "0000-0000-0000-0000-0000-0000-0000")
    reader.click("#open-form button[type=submit]")
    expect(reader.locator("#open-status")).to_contain_text("does not open")
    reader.fill("#key", keys[0])
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    assert "burned" in reader.inner_text("[data-views-left]")
    again = new_page("/d/" + link.rsplit("/d/", 1)[1])
    assert "This drop is gone" in again.inner_text("h1")
    # Chromium logs every 4xx as a console error: the reader's refused fetch (403)
    # and the gone page's own 410 status. Nothing else may appear.
    assert writer.problems == []
    assert [p for p in reader.problems if "status of 403" not in p] == []
    assert [p for p in again.problems if "status of 410" not in p] == []


def test_a_voice_drop_recorded_with_the_fake_microphone_plays(new_page):
    writer = new_page("/drops/new")
    writer.click("#tab-voice")
    writer.click("#record")
    expect(writer.locator("#rec-clock")).to_have_text("0:02")  # two seconds recorded
    writer.click("#stop")
    writer.wait_for_selector("#preview:not([hidden])")
    writer.click("#create")
    link, keys = _share(writer)

    reader = new_page("/d/" + link.rsplit("/d/", 1)[1])
    reader.fill("#key", keys[0])
    reader.click("#open-form button[type=submit]")
    player = reader.wait_for_selector("[data-player]:not([hidden])")
    assert player.evaluate("el => el.src.startsWith('blob:')")
    state = player.evaluate(
        """async (el) => {
            await el.play();
            await new Promise((resolve) => setTimeout(resolve, 600));
            return { time: el.currentTime, paused: el.paused, duration: el.duration };
        }"""
    )
    assert state["time"] > 0, state
    assert writer.problems == [] and reader.problems == []


def test_writing_and_reading_work_without_javascript(browser, live_server_url):
    contexts = [
        browser.new_context(base_url=live_server_url, java_script_enabled=False) for _ in range(2)
    ]
    try:
        writer, reader = (context.new_page() for context in contexts)
        writer.goto("/drops/new")
        assert writer.locator("#tab-voice").is_hidden()
        writer.fill("#drop-text", "no scripts were harmed")
        writer.click("#create")
        writer.wait_for_selector("#share-title")
        keys = writer.locator("[data-share-keys] code").all_inner_texts()
        assert len(keys) == 3
        link = writer.input_value("[data-share-link]")

        reader.goto("/d/" + link.rsplit("/d/", 1)[1])
        reader.fill("#key", keys[2])
        reader.click("#open-form button[type=submit]")
        assert reader.inner_text("[data-message]") == "no scripts were harmed"

        writer.click("[data-share-receipt]")
        assert "Key 3: used at" in " ".join(writer.inner_text("main").split())
        writer.click("button.danger")
        assert writer.locator("[data-receipt-state=burned]").count() == 1
    finally:
        for context in contexts:
            context.close()


def test_a_voice_note_plays_without_javascript_on_the_readers_side(
    new_page, browser, live_server_url
):
    writer = new_page("/drops/new")
    writer.click("#tab-voice")
    writer.click("#record")
    expect(writer.locator("#rec-clock")).to_have_text("0:01")  # a second recorded
    writer.click("#stop")
    writer.wait_for_selector("#preview:not([hidden])")
    writer.click("#create")
    link, keys = _share(writer)

    context = browser.new_context(base_url=live_server_url, java_script_enabled=False)
    try:
        reader = context.new_page()
        audio_answers = []
        reader.on(
            "response",
            lambda r: audio_answers.append(r.status) if "/audio/" in r.url else None,
        )
        reader.goto("/d/" + link.rsplit("/d/", 1)[1])
        reader.fill("#key", keys[0])
        reader.click("#open-form button[type=submit]")
        player = reader.locator("[data-player]")
        expect(player).to_have_attribute("src", re.compile(r"^/d/.+/audio/"))
        expect(player).to_have_js_property("readyState", 4, timeout=10_000)
        assert audio_answers and set(audio_answers) == {200}
    finally:
        context.close()
