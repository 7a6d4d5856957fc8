"""Issue 17 in the real browser: passphrase rooms across two browsers, rooms kept
on a device and moved to another by an encrypted export, the rules and the
public moderation log. Every request and WebSocket frame is recorded where a
promise is about what never leaves the browser."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from boards import services
from tests.e2e.test_boards_catch_up import Writer, topic_key
from tests.moderation.conftest import blob

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSPHRASE = "violet anchor tundra mosaic ember"
WRONG = "violet anchor tundra mosaic embers"
EXPORT_PASSPHRASE = "granite willow orbit pepper lantern"
SHOTS = Path(os.environ.get("ROOMS_SHOTS", "/tmp/rooms-shots"))


@pytest.fixture
def open_page(browser, live_server_url):
    """Pages in fresh browser contexts (a fresh context is a fresh device)."""
    contexts = []

    def make(path: str | None = None, *, viewport=DESKTOP, javascript: bool = True, context=None):
        if context is None:
            context = browser.new_context(
                base_url=live_server_url,
                viewport=viewport,
                java_script_enabled=javascript,
                accept_downloads=True,
            )
            contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
        if path:
            page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()


def record(context_or_page) -> list[str]:
    """Every request (URL, headers, body) and WebSocket frame, either way."""
    sent: list[str] = []

    def on_request(request):
        sent.append(f"{request.method} {request.url} {request.headers}")
        sent.append(request.post_data or "")

    def on_socket(ws):
        sent.append(ws.url)
        ws.on("framesent", lambda payload: sent.append(str(payload)))

    context_or_page.on("request", on_request)
    if hasattr(context_or_page, "new_page"):  # a context: sockets are per page
        context_or_page.on("page", lambda page: page.on("websocket", on_socket))
    else:
        context_or_page.on("websocket", on_socket)
    return sent


def forms_of(secret: str) -> list[str]:
    """A room secret in every shape it could travel in."""
    raw = base64.urlsafe_b64decode(secret + "=")
    return [secret, base64.b64encode(raw).decode().rstrip("="), raw.hex()]


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=30000)


def make_passphrase_room(page, *, remember: bool = False, with_link: bool = False) -> str:
    page.goto("/rooms")
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("The same passphrase again").fill(PASSPHRASE)
    if remember:
        page.locator("[data-remember-new]").check()
    if with_link:
        page.locator("[data-with-link]").check()
    page.get_by_role("button", name="Create the room").click()
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22}"), timeout=30000)
    return page.url.split("/r/")[1].split("#")[0]


def room_shows_nothing(page) -> None:
    for selector in [
        ".post",
        ".comment",
        ".author",
        "time",
        ".flag",
        "#composer-text",
        "[data-live-status]",
        "[data-invite]",
    ]:
        expect(page.locator(selector)).to_have_count(0)


def test_a_weak_passphrase_is_refused_before_anything_is_derived_or_sent(open_page):
    page = open_page("/rooms")
    sent = record(page)
    for weak in ("password", "correct horse", "aaaaaaaaaaaaaaaaaaaa", "abcdefghijklmnop"):
        page.get_by_label("Passphrase", exact=True).fill(weak)
        page.get_by_label("The same passphrase again").fill(weak)
        page.get_by_role("button", name="Create the room").click()
        expect(page.locator("[data-create-status]")).to_contain_text("too weak")
    expect(page.locator("[data-strength-label]")).to_contain_text("weak", ignore_case=True)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    expect(page.locator("[data-strength-label]")).to_contain_text("Strong")
    assert not [line for line in sent if "/api/" in line]
    assert page.problems == []


def test_a_passphrase_room_works_across_two_browsers_and_nothing_secret_leaves(
    open_page, browser, live_server_url
):
    owner_context = browser.new_context(base_url=live_server_url, viewport=DESKTOP)
    guest_context = browser.new_context(base_url=live_server_url, viewport=PHONE)
    try:
        owner_sent, guest_sent = record(owner_context), record(guest_context)
        owner = open_page(context=owner_context)
        room = make_passphrase_room(owner)
        assert "#" not in owner.url  # the link carries no key
        wait_live(owner)
        invite = owner.locator("[data-invite-link]")
        expect(invite).to_have_value(re.compile(rf"^http://[^#]+/r/{room}$"))

        guest = open_page(context=guest_context)
        guest.goto(f"/r/{room}")
        expect(guest.locator("[data-passphrase-form]")).to_be_visible()
        room_shows_nothing(guest)
        guest.get_by_label("Passphrase").fill(WRONG)
        guest.get_by_role("button", name="Open the room").click()
        expect(guest.locator("[data-passphrase-status]")).to_contain_text(
            "does not open this room", timeout=30000
        )
        room_shows_nothing(guest)
        guest.screenshot(path=SHOTS / "room-wrong-passphrase-phone.png", full_page=True)

        guest.get_by_label("Passphrase").fill(PASSPHRASE)
        guest.get_by_role("button", name="Open the room").click()
        wait_live(guest)
        expect(guest.locator("[data-passphrase-form]")).to_have_count(0)

        owner.get_by_label("Write a post").fill("hello from the owner")
        owner.get_by_role("button", name="Post", exact=True).click()
        expect(guest.locator(".post .body")).to_have_text(["hello from the owner"], timeout=20000)
        guest.get_by_label("Write a post").fill("the guest answers")
        guest.get_by_role("button", name="Post", exact=True).click()
        expect(owner.locator(".post .body").first).to_have_text("the guest answers", timeout=20000)
        owner.screenshot(path=SHOTS / "room-passphrase-desktop.png", full_page=True)

        # A post's page in the same tab opens without the passphrase again.
        guest.locator(".post .open").first.click()
        expect(guest.locator(".post .body")).to_have_text(["the guest answers"], timeout=20000)

        secret = owner.evaluate(f"sessionStorage.getItem('nullboard:room:{room}')")
        assert secret == guest.evaluate(f"sessionStorage.getItem('nullboard:room:{room}')")
        everything = "\n".join(owner_sent + guest_sent)
        assert "/api/rooms" in everything and "topic:join" in everything  # frames were seen
        for needle in [
            PASSPHRASE,
            WRONG,
            *forms_of(secret),
            "hello from the owner",
            "the guest answers",
        ]:
            assert needle not in everything, needle
        assert any("ws/feed" in line for line in guest_sent)
        assert owner.problems == [] and guest.problems == []
    finally:
        owner_context.close()
        guest_context.close()


def test_a_room_that_needs_link_and_passphrase_needs_both(open_page):
    owner = open_page()
    room = make_passphrase_room(owner, with_link=True)
    link = owner.url
    assert "#k=" in link
    wait_live(owner)
    expect(owner.locator("[data-invite-link]")).to_have_value(re.compile(r"#k=[A-Za-z0-9_-]{43}$"))

    bare = open_page(f"/r/{room}")
    expect(bare.locator("[data-missing-key]")).to_be_visible()
    room_shows_nothing(bare)

    guest = open_page(link.replace(owner.url.split("/r/")[0], ""))
    guest.get_by_label("Passphrase").fill(PASSPHRASE)
    guest.get_by_role("button", name="Open the room").click()
    wait_live(guest)
    wrong_link = open_page(f"/r/{room}#k={'A' * 43}")
    wrong_link.get_by_label("Passphrase").fill(PASSPHRASE)
    wrong_link.get_by_role("button", name="Open the room").click()
    expect(wrong_link.locator("[data-passphrase-status]")).to_contain_text(
        "does not open", timeout=30000
    )
    room_shows_nothing(wrong_link)


def remember_link_room(page, live_server_url) -> tuple[str, str]:
    _raw, secret, room = Writer(live_server_url).room()
    page.goto(f"/r/{room}#k={secret}")
    wait_live(page)
    page.get_by_label("Remember this room on this device").check()
    return room, secret


def test_export_in_one_browser_and_import_in_a_fresh_one_restores_every_room(
    open_page, browser, live_server_url, tmp_path
):
    first = browser.new_context(base_url=live_server_url, viewport=DESKTOP, accept_downloads=True)
    second = browser.new_context(base_url=live_server_url, viewport=PHONE)
    try:
        first_sent, second_sent = record(first), record(second)
        page = open_page(context=first)
        link_rooms = [remember_link_room(page, live_server_url) for _ in range(2)]
        phrase_room = make_passphrase_room(page, remember=True)
        wait_live(page)
        page.get_by_label("Write a post").fill("kept across devices")
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator(".post .body")).to_have_text(["kept across devices"], timeout=20000)
        phrase_secret = page.evaluate(f"sessionStorage.getItem('nullboard:room:{phrase_room}')")

        page.goto("/rooms")
        listed = page.locator(".sidebar-left [data-my-rooms] li")
        expect(listed).to_have_count(3)
        page.get_by_label("Passphrase for the export").fill(EXPORT_PASSPHRASE)
        page.get_by_role("button", name="Export", exact=True).click()
        expect(page.locator("[data-export-status]")).to_contain_text(
            "3 rooms exported", timeout=30000
        )
        text = page.locator("[data-export-text]").input_value()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the file").click()
        saved = tmp_path / "rooms.json"
        download.value.save_as(saved)
        assert saved.read_text() == text
        assert '"format": "nullboard-rooms"' in text
        for _room, secret in link_rooms:
            assert secret not in text
        assert phrase_secret not in text
        page.screenshot(path=SHOTS / "rooms-export-desktop.png", full_page=True)

        fresh = open_page(context=second)
        fresh.goto("/rooms")
        fresh.locator("details.my-rooms summary").click()
        expect(fresh.locator(".phone-tools [data-my-rooms] li")).to_have_count(0)
        fresh.get_by_label("or its text").fill(text)
        fresh.get_by_label("The export's passphrase").fill("not the passphrase at all")
        fresh.get_by_role("button", name="Import").click()
        expect(fresh.locator("[data-import-status]")).to_contain_text(
            "Wrong passphrase", timeout=30000
        )
        assert fresh.evaluate("localStorage.getItem('nullboard:rooms')") is None

        fresh.get_by_label("or its text").fill("")
        fresh.get_by_label("An export file").set_input_files(saved)
        expect(fresh.get_by_label("or its text")).to_have_value(text)
        fresh.get_by_label("The export's passphrase").fill(EXPORT_PASSPHRASE)
        fresh.get_by_role("button", name="Import").click()
        expect(fresh.locator("[data-import-status]")).to_contain_text(
            "Imported 3 rooms", timeout=30000
        )
        menu = fresh.locator(".phone-tools [data-my-rooms] li")
        expect(menu).to_have_count(3)
        fresh.screenshot(path=SHOTS / "rooms-import-phone.png", full_page=True)

        # Opening the passphrase room from "My rooms" works without typing it.
        menu.filter(has_text="Passphrase room").get_by_role("link").click()
        wait_live(fresh)
        expect(fresh.locator("[data-passphrase-form]")).to_have_count(0)
        expect(fresh.locator(".post .body")).to_have_text(["kept across devices"])
        expect(fresh.get_by_label("Remember this room on this device")).to_be_checked()
        # And a link room, from the list too.
        fresh.goto("/rooms")
        fresh.locator("details.my-rooms summary").click()
        fresh.locator(".phone-tools [data-my-rooms] li").filter(
            has_text=f"Room {link_rooms[0][0][:6]}"
        ).get_by_role("link").click()
        wait_live(fresh)

        everything = "\n".join(first_sent + second_sent)
        secrets = [phrase_secret, *(secret for _room, secret in link_rooms)]
        for needle in [PASSPHRASE, EXPORT_PASSPHRASE, text[:60], *secrets]:
            assert needle not in everything
        for secret in secrets:
            for form in forms_of(secret):
                assert form not in everything
        assert page.problems == [] and fresh.problems == []
    finally:
        first.close()
        second.close()


def test_forget_one_and_forget_all(open_page, live_server_url):
    page = open_page()
    rooms = [remember_link_room(page, live_server_url) for _ in range(2)]
    listed = page.locator(".sidebar-left [data-my-rooms] li")
    expect(listed).to_have_count(2)
    listed.first.get_by_role("button", name=re.compile("Forget")).click()
    expect(listed).to_have_count(1)
    expect(page.get_by_label("Remember this room on this device")).to_be_checked()
    kept = page.evaluate("JSON.parse(localStorage.getItem('nullboard:rooms')).map(r => r.room)")
    assert kept == [rooms[1][0]]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".sidebar-left").get_by_role("button", name="Forget all").click()
    expect(listed).to_have_count(0)
    assert page.evaluate("localStorage.getItem('nullboard:rooms')") is None
    page.get_by_label("Remember this room on this device").uncheck()
    page.reload()
    wait_live(page)
    expect(page.get_by_label("Remember this room on this device")).not_to_be_checked()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_rules_and_the_log_render_and_are_linked_from_the_footer(open_page, viewport, javascript):
    post = services.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    comment = services.comment_create(post_id=post["id"], blob=blob(), author="loud-cat-4321")
    services.post_hide(post_id=post["id"], reason="Community flags: spam")
    services.post_unhide(post_id=post["id"], reason="Read again: not spam.")
    services.comment_remove(comment_id=comment["id"], reason="A home address (doxxing).")

    page = open_page("/", viewport=viewport, javascript=javascript)
    page.locator("footer").get_by_role("link", name="Rules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Community rules")
    size = "desktop" if viewport is DESKTOP else "phone"
    page.screenshot(
        path=SHOTS / f"rules-{size}-{'js' if javascript else 'nojs'}.png", full_page=True
    )
    page.locator("footer").get_by_role("link", name="Moderation log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Public moderation log")
    day = page.locator(".modlog-day")
    expect(day).to_have_count(1)
    expect(day.locator('[data-count="posts_hidden"]')).to_have_text("1")
    expect(day.locator('[data-count="posts_restored"]')).to_have_text("1")
    expect(day.locator('[data-count="comments_removed"]')).to_have_text("1")
    expect(day.locator("[data-reason]")).to_have_count(3)
    expect(day).to_contain_text("Read again: not spam.")
    expect(day).to_contain_text("A home address (doxxing).")
    text = page.locator("main").inner_text()
    for private in (post["id"], comment["id"], "quiet-owl", "loud-cat", "127.0.0.1"):
        assert private not in text and private not in page.content()
    page.screenshot(
        path=SHOTS / f"moderation-{size}-{'js' if javascript else 'nojs'}.png", full_page=True
    )
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.problems == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_flag_menu_links_the_rules(open_page, live_server_url, viewport):
    writer = Writer(live_server_url)
    made = writer.post("rules are near", topic="news")
    writer.comment(made, "so is the log", topic_key("news"))
    page = open_page("/topic/news", viewport=viewport)
    expect(page.locator(".post .body")).to_have_text(["rules are near"], timeout=20000)
    page.locator(".post .flag-menu summary").click()
    link = page.locator(".post .flag-options").get_by_role("link", name="Community rules")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box and box["height"] >= 24 and box["width"] >= 24
    page.goto(f"/post/{made['id']}")
    expect(page.locator(".comment .body")).to_have_text(["so is the log"], timeout=20000)
    page.locator(".comment .flag-menu summary").click()
    page.locator(".comment .flag-options").get_by_role("link", name="Community rules").click()
    expect(page).to_have_url(re.compile(r"/rules$"))


A11Y_PAGES = ["/rules", "/moderation", "/rooms"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_new_pages_pass_axe_core(open_page, viewport, live_server_url):
    from axe_playwright_python.sync_playwright import Axe

    services.post_remove(
        post_id=services.post_create(topic="news", blob=blob(), author="a-b-1")["id"],
        reason="Spam.",
    )
    _raw, secret, room = Writer(live_server_url).room()
    paths = [*A11Y_PAGES, f"/r/{room}#k={secret}"]
    phrase_page = open_page(viewport=viewport)
    phrase_room = make_passphrase_room(phrase_page)
    paths.append(f"/r/{phrase_room}")  # the passphrase form, in a fresh context below
    for path in paths:
        page = open_page(path, viewport=viewport)
        if "/r/" in path and "#k=" in path:
            wait_live(page)
        results = Axe().run(page)
        found = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]]
        assert found == [], (path, found)
