"""The share view in a real Chromium: one link and one QR code per reader (decoded
for real from screenshots), copying, the warning before leaving, the receipt's local
times, and the no-JS page."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import png
import pytest
import zxingcpp
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def decode_qr(picture: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in a PNG screenshot."""
    width, height, rows, _ = png.Reader(bytes=picture).asRGBA8()
    gray = bytearray()
    for row in rows:
        for i in range(0, len(row), 4):
            gray.append((row[i] * 299 + row[i + 1] * 587 + row[i + 2] * 114) // 1000)
    image = memoryview(bytes(gray)).cast("B", (height, width))
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.QRCode)]


def open_context(browser, live_server_url, **options):
    context = browser.new_context(base_url=live_server_url, **options)
    return context, context.new_page()


def create_drop(
    page, text: str = "the key is under the mat", views: int = 3, life: int = 300
) -> dict:
    """Write a drop on /drops/new and wait for the share view with its QR codes drawn."""
    page.goto("/drops/new")
    page.fill("#drop-text", text)
    page.select_option("#drop-views", str(views))
    page.select_option("#drop-life", str(life))
    page.click("#create")
    page.wait_for_selector("#share:not([hidden])", timeout=15_000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-reader] [data-reader-qr] svg').length === 3"
    )
    return {
        "url": page.input_value("[data-share-link]"),
        "keys": page.locator("[data-reader-key]").all_inner_texts(),
        "receipt": page.get_attribute("[data-share-receipt]", "href"),
    }


def reader_links(drop: dict) -> list[str]:
    return [f"{drop['url']}#key={key}" for key in drop["keys"]]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_each_readers_qr_code_holds_that_readers_link(browser, live_server_url, viewport):
    context, page = open_context(browser, live_server_url, viewport=viewport)
    try:
        drop = create_drop(page)
        expected = reader_links(drop)
        assert len(set(expected)) == 3
        for n, link in enumerate(expected, start=1):
            picture = page.locator(f"[data-reader='{n}'] [data-reader-qr] svg").screenshot()
            assert decode_qr(picture) == [link]
            shown = page.inner_text(f"[data-reader='{n}'] [data-reader-link]")
            assert shown == link
        # The server's image holds the bare link only.
        bare = page.locator("[data-share-qr]")
        bare.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('[data-share-qr]').complete")
        assert decode_qr(bare.screenshot()) == [drop["url"]]
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_reader_blocks_fit_the_screen(browser, live_server_url, viewport, tmp_path):
    context, page = open_context(browser, live_server_url, viewport=viewport)
    try:
        create_drop(page)
        blocks = [page.locator(f"[data-reader='{n}']").bounding_box() for n in (1, 2, 3)]
        if viewport is PHONE:
            assert blocks[0]["y"] < blocks[1]["y"] < blocks[2]["y"], "blocks stack on a phone"
            assert len({round(b["x"]) for b in blocks}) == 1
        else:
            assert len({round(b["y"]) for b in blocks}) == 1, "blocks side by side on a desktop"
        for block in blocks:
            assert block["x"] >= 0 and block["x"] + block["width"] <= viewport["width"]
        for n in (1, 2, 3):
            code = page.locator(f"[data-reader='{n}'] svg").bounding_box()
            assert code["width"] >= 160 and code["height"] >= 160, code
        buttons = page.locator("#share button:visible")
        assert buttons.count() == 3 * 2 + 2  # per reader: link and key; Copy all; bare link
        for i in range(buttons.count()):
            box = buttons.nth(i).bounding_box()
            assert box["width"] >= 24 and box["height"] >= 24, buttons.nth(i).inner_text()
        # Focus reached by keyboard is visible on the copy buttons.
        page.focus("[data-copy-all]")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.copy") == "reader-link-1"
        outline = page.eval_on_selector(
            "[data-reader='1'] [data-reader-copy-link]",
            "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth",
        )
        assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(tmp_path / "share.png"), full_page=True)
    finally:
        context.close()


def test_no_request_carries_a_key_while_the_share_view_is_shown(browser, live_server_url):
    context, page = open_context(browser, live_server_url)
    sent: list[str] = []
    page.on(
        "request",
        lambda request: sent.append(
            " ".join(
                [request.url, str(request.post_data_buffer or b""), str(request.all_headers())]
            )
        ),
    )
    try:
        drop = create_drop(page)
        page.wait_for_function("() => document.querySelector('[data-share-qr]').complete")
        # An absence check: no event marks "nothing more will be fetched", so it gives
        # anything the QR drawing might fetch late half a second.
        page.wait_for_timeout(500)
        assert any("/api/drops" in line for line in sent), "the recording saw the create"
        for key in drop["keys"]:
            for form in (key, key.replace("-", ""), key.replace("-", "%2D")):
                assert not [line for line in sent if form in line], form
    finally:
        context.close()


def test_copy_link_for_reader_n_and_copy_all_put_exactly_those_links(browser, live_server_url):
    context, page = open_context(
        browser, live_server_url, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        drop = create_drop(page)
        links = reader_links(drop)
        for n in (2, 1, 3):
            page.click(f"text=Copy link for reader {n}")
            button = page.locator(f"[data-reader='{n}'] [data-reader-copy-link]")
            expect(button).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == links[n - 1]
        page.click("[data-reader='2'] [data-reader-copy-key]")
        expect(page.locator("[data-reader='2'] [data-reader-copy-key]")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == drop["keys"][1]
        page.click("text=Copy all three links")
        expect(page.locator("[data-copy-all]")).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.split("\n") == [f"Reader {n}: {link}" for n, link in enumerate(links, 1)]
    finally:
        context.close()


def test_reader_twos_link_fills_the_form_and_still_needs_a_click(
    browser, live_server_url, new_page
):
    writer = new_page("/drops/new")
    drop = create_drop(writer, text="for the second reader")
    context, reader = open_context(browser, live_server_url)
    opens: list[str] = []
    reader.on("request", lambda r: opens.append(r.url) if r.method == "POST" else None)
    try:
        # The link as the page gives it to reader 2, not one this test builds.
        reader.goto(writer.inner_text("[data-reader='2'] [data-reader-link]"))
        assert reader.input_value("#key") == drop["keys"][1]
        assert "#" not in reader.url and drop["keys"][1] not in reader.url
        # An absence check (no event marks "no open is coming"): a grace for a late one.
        reader.wait_for_timeout(300)
        assert opens == [], "the link alone opened nothing"
        reader.click("#open-form button[type=submit]")
        reader.wait_for_selector("#opened:not([hidden])")
        assert reader.inner_text("[data-message]") == "for the second reader"
    finally:
        context.close()


def _reload_asks(page) -> bool:
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    page.wait_for_selector("#compose:not([hidden])")
    page.remove_listener("dialog", answer)
    return "beforeunload" in asked


EXPIRE_NOW = "expire now"
COPY_BY_HAND = "copy by hand"


def _act(page, action: str) -> None:
    if action == EXPIRE_NOW:
        page.evaluate(
            "document.querySelector('[data-share-expires]').dataset.expiresAt"
            " = String(Date.now() / 1000 + 1)"
        )
        expect(page.locator(".countdown-line")).to_contain_text("expired", timeout=5000)
    elif action == COPY_BY_HAND:
        # What Ctrl+C does on a selection: the page's copy event, then the clipboard.
        page.evaluate(
            "window.getSelection().selectAllChildren(document.querySelector('[data-share-keys]'));"
            " document.execCommand('copy')"
        )
    else:
        page.click(action)


@pytest.mark.parametrize(
    ("actions", "asks", "status"),
    [
        ([], True, "The keys are not shown again: copy each reader's link before you leave."),
        (
            ["text=Copy link for reader 1", "[data-reader='2'] [data-reader-copy-key]"],
            True,
            "Not copied yet: reader 3.",
        ),
        (["text=Copy all three links"], False, "All links copied."),
        ([f"text=Copy link for reader {n}" for n in (3, 1, 2)], False, "All links copied."),
        ([COPY_BY_HAND], False, "All links copied."),
        ([EXPIRE_NOW], False, ""),
    ],
    ids=["nothing-copied", "two-of-three", "copy-all", "each-link", "by-hand", "expired"],
)
def test_leaving_asks_first_while_a_readers_link_is_uncopied(
    browser, live_server_url, actions, asks, status
):
    context, page = open_context(
        browser, live_server_url, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        create_drop(page)
        for action in actions:
            _act(page, action)
        expect(page.locator("[data-share-status]")).to_have_text(status)
        assert _reload_asks(page) is asks
    finally:
        context.close()


@pytest.mark.parametrize("zone", ["Asia/Tehran", "America/Los_Angeles"])
def test_the_receipt_shows_times_in_the_readers_time_zone(browser, live_server_url, zone):
    context, page = open_context(browser, live_server_url, timezone_id=zone, locale="en-US")
    try:
        drop = create_drop(page)
        reader = context.new_page()
        reader.goto(reader_links(drop)[0])
        reader.click("#open-form button[type=submit]")
        reader.wait_for_selector("#opened:not([hidden])")
        page.goto(drop["receipt"])
        for selector in ("[data-key-use='1'] time", "[data-receipt-expires]"):
            stamp = page.get_attribute(selector, "datetime")
            shown = page.inner_text(selector)
            local = datetime.fromisoformat(stamp).astimezone(ZoneInfo(zone))
            clock = f"{local.hour % 12 or 12}:{local.minute:02d}:{local.second:02d}"
            assert clock in shown and local.strftime("%p") in shown, (zone, shown, local)
            assert "UTC" not in shown
        assert zone in page.inner_text("[data-time-zone]")
        assert page.inner_text("[data-key-use='2']").strip().endswith("not used")
    finally:
        context.close()


def test_without_javascript_the_share_page_lists_three_reader_links(browser, live_server_url):
    context, page = open_context(browser, live_server_url, java_script_enabled=False)
    try:
        page.goto("/drops/new")
        page.fill("#drop-text", "plain as paper")
        page.click("#create")
        page.wait_for_selector("#share-title")
        bare = page.input_value("[data-share-link]")
        keys = page.locator("[data-reader-key]").all_inner_texts()
        links = page.locator("[data-reader-link]").all_inner_texts()
        assert len(keys) == 3 and links == [f"{bare}#key={key}" for key in keys]
        assert page.locator("[data-copy-all]").is_hidden()
        assert page.locator("[data-reader-qr]").first.is_hidden()
        text = " ".join(page.inner_text("main").split())
        assert "after 3 views, whichever comes first" in text and "view(s)" not in text
        assert "Sealed on the server, because JavaScript was off." in text
        page.wait_for_function("() => document.querySelector('[data-share-qr]').complete")
        assert decode_qr(page.locator("[data-share-qr]").screenshot()) == [bare]
        assert re.fullmatch(r"https?://[^#]+/d/[A-Za-z0-9_-]{16}", bare)
        # The receipt without JavaScript says its times are UTC, and shows them so.
        page.click("[data-share-receipt]")
        assert page.inner_text("[data-time-zone]") == "Times are in UTC."
        expires = page.inner_text("[data-receipt-expires]")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", expires)
    finally:
        context.close()


def test_the_share_view_counts_views_in_words(browser, live_server_url):
    context, page = open_context(browser, live_server_url)
    try:
        create_drop(page, views=1)
        line = " ".join(page.inner_text(".countdown-line").split())
        assert line.endswith("or after 1 view, whichever comes first.") and "(s)" not in line
        first = page.locator("[data-share-first-only]")
        assert first.is_visible()
        assert first.inner_text().startswith("Only the first reader to open it will read it")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("sealed", "says"),
    [
        ("browser", "Sealed in your browser: the server never saw your message or these keys."),
        ("server", "Sealed on the server, because JavaScript was off."),
    ],
)
def test_show_share_takes_the_create_answer_whichever_side_sealed(new_page, sealed, says):
    """The contract with new.js: showShare(data) with the fields common.md fixes."""
    page = new_page("/drops/new")
    base = page.evaluate("location.origin")
    keys = ["ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345", "6789-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "Z"]
    data = {
        "id": "A" * 16,
        "url": f"{base}/d/{'A' * 16}",
        "qr_url": f"{base}/static/icons/logo.svg",
        "receipt_url": f"{base}/d/{'A' * 16}/receipt/{'B' * 22}",
        "keys": keys,
        "max_views": 2,
        "expires_at": int(page.evaluate("Date.now() / 1000")) + 300,
        "sealed": sealed,
    }
    page.evaluate("async (data) => (await import('/static/drops/share.js')).showShare(data)", data)
    expect(page.locator("[data-share-sealed]")).to_have_text(says)
    expect(page.locator("[data-share-sealed]")).to_be_visible()
    assert page.locator("#compose").is_hidden()
    assert page.evaluate("document.activeElement.id") == "share-title"
    text = " ".join(page.inner_text("#share").split())
    assert "or after 2 views, whichever comes first" in text
    assert "Only the first 2 readers to open it will read it" in text
    for n, key in enumerate(keys, start=1):
        link = f"{data['url']}#key={key}"
        assert page.inner_text(f"[data-reader='{n}'] [data-reader-link]") == link
        picture = page.locator(f"[data-reader='{n}'] svg").screenshot()
        assert decode_qr(picture) == [link]
    assert page.get_attribute("[data-share-receipt]", "href") == data["receipt_url"]
    assert page.problems == []


SHARE_SHEET = """
window.sharedLinks = [];
Object.defineProperty(Navigator.prototype, "share", {
  configurable: true,
  value: async (data) => { window.sharedLinks.push(data); },
});
Object.defineProperty(Navigator.prototype, "canShare", { configurable: true, value: () => true });
"""


def test_a_phone_hands_one_readers_link_to_the_share_sheet(browser, live_server_url):
    # The system share sheet cannot be driven headless: this stands in for it, as
    # the phone's browser would provide it, and records what the page hands over.
    context, page = open_context(browser, live_server_url, viewport=PHONE, has_touch=True)
    context.add_init_script(SHARE_SHEET)
    try:
        drop = create_drop(page)
        page.click("[data-reader='2'] [data-reader-share]")
        expect(page.locator("[data-share-status]")).to_have_text(
            "Not copied yet: reader 1, reader 3."
        )
        shared = page.evaluate("window.sharedLinks")
        assert shared == [{"title": "A drop for reader 2", "url": reader_links(drop)[1]}]
        box = page.locator("[data-reader='2'] [data-reader-share]").bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24
    finally:
        context.close()


def test_without_a_share_sheet_there_is_no_share_button(browser, live_server_url):
    context, page = open_context(browser, live_server_url)
    try:
        create_drop(page)
        assert page.evaluate("typeof navigator.share") == "undefined"
        assert page.locator("[data-reader-share]:visible").count() == 0
    finally:
        context.close()


def test_following_a_link_away_asks_first_too(browser, live_server_url):
    context, page = open_context(browser, live_server_url)
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay: the keys are still on the page

    page.on("dialog", answer)
    try:
        drop = create_drop(page)
        with page.expect_event("dialog"):  # answered (dismissed) by the handler above
            page.click("#share >> text=Make another drop", no_wait_after=True)
        assert asked == ["beforeunload"]
        assert page.locator("[data-reader-key]").all_inner_texts() == drop["keys"]
    finally:
        context.close()
