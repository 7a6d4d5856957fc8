"""Boards in the real browser: encrypted posts that appear live, and private rooms
whose key never leaves the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live")


def record_requests(page) -> list[str]:
    """Everything the page sends: URLs, headers, bodies and WebSocket frames."""
    sent: list[str] = []

    def on_request(request):
        sent.append(request.url)
        sent.append(repr(request.headers))
        sent.append(request.post_data or "")

    page.on("request", on_request)
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    return sent


def test_a_post_appears_decrypted_live_in_another_browser(new_page):
    writer = new_page("/topic/news")
    reader = new_page("/topic/news")
    wait_live(writer)
    wait_live(reader)
    writer.get_by_label("Write a post").fill("Hello from the other side")
    # 8192 bytes of base64 hold 6144 bytes: 29 go to the version, IV and tag.
    expect(writer.locator("[data-char-count]")).to_have_text("6090 characters left")
    writer.get_by_role("button", name="Post").click()
    expect(reader.locator(".post .body")).to_have_text(["Hello from the other side"])
    expect(writer.locator(".post .body")).to_have_text(["Hello from the other side"])
    # The server only ever saw ciphertext.
    api = reader.request.get("/api/posts?topic=news").json()
    assert "Hello" not in str(api)
    assert api["items"][0]["blob"]
    assert writer.problems == []
    assert reader.problems == []


def test_a_comment_appears_live_on_the_post_page(new_page):
    writer = new_page("/topic/science")
    writer.get_by_label("Write a post").fill("A post to discuss")
    writer.get_by_role("button", name="Post").click()
    link = writer.locator(".post a.open").first
    expect(link).to_have_text("0 comments")
    href = link.get_attribute("href")
    first = new_page(href)
    second = new_page(href)
    wait_live(first)
    wait_live(second)
    expect(second.locator(".post .body")).to_have_text("A post to discuss")
    first.get_by_label("Write a comment").fill("First!")
    first.get_by_role("button", name="Comment").click()
    expect(second.locator(".comment .body")).to_have_text(["First!"])
    expect(second.locator(".post .comment-count")).to_have_text("1 comment")
    expect(writer.locator(".post .comment-count")).to_have_text("1 comment")  # home of the post
    for page in (writer, first, second):
        assert page.problems == []


def test_a_private_room_works_from_its_invite_link_and_never_sends_its_key(new_page):
    owner = new_page(None)
    owner_sent = record_requests(owner)
    owner.goto("/")
    owner.get_by_role("button", name="New private room").click()
    owner.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22}#k=[A-Za-z0-9_-]{43}$"))
    secret = owner.url.split("#k=")[1]
    invite = owner.get_by_label("Invite link").input_value()
    assert invite == owner.url
    wait_live(owner)
    owner.get_by_label("Write a post").fill("Meet at the usual place")
    owner.get_by_role("button", name="Post").click()
    expect(owner.locator(".post .body")).to_have_text(["Meet at the usual place"])

    guest = new_page(None)
    guest_sent = record_requests(guest)
    guest.goto(invite)
    expect(guest.locator(".post .body")).to_have_text(["Meet at the usual place"])
    wait_live(guest)
    guest.get_by_label("Write a post").fill("On my way")
    guest.get_by_role("button", name="Post").click()
    expect(owner.locator(".post .body")).to_have_text(["On my way", "Meet at the usual place"])

    # Room posts stay out of the public feeds.
    assert owner.request.get("/api/posts").json()["items"] == []
    sent = owner_sent + guest_sent
    assert len(sent) > 20
    assert not [item for item in sent if secret in item]
    assert owner.problems == []
    assert guest.problems == []


def test_a_room_link_without_its_key_cannot_be_read(new_page):
    owner = new_page("/")
    owner.get_by_role("button", name="New private room").click()
    owner.wait_for_url(re.compile(r"#k="))
    owner.get_by_label("Write a post").fill("secret plans")
    owner.get_by_role("button", name="Post").click()
    expect(owner.locator(".post .body")).to_have_text(["secret plans"])
    stranger = new_page(owner.url.split("#")[0])
    expect(stranger.locator("[data-missing-key]")).to_be_visible()
    expect(stranger.locator("[data-missing-key]")).to_contain_text("This link has no key")
    expect(stranger.locator(".post")).to_have_count(0)
    expect(stranger.get_by_label("Write a post")).to_have_count(0)


def test_hiding_a_post_is_local_and_survives_a_reload(new_page):
    page = new_page("/topic/culture")
    page.get_by_label("Write a post").fill("Not for me")
    page.get_by_role("button", name="Post").click()
    post = page.locator(".post").first
    post.get_by_role("button", name="Hide on this device").click()
    expect(post).to_be_hidden()
    page.reload()
    expect(page.locator(".post")).to_have_count(1)
    expect(page.locator(".post").first).to_be_hidden()
    page.get_by_label("Show hidden").check()
    expect(page.locator(".post .body")).to_have_text(["Not for me"])
    page.get_by_role("button", name="Unhide on this device").click()
    page.get_by_label("Show hidden").uncheck()
    expect(page.locator(".post .body")).to_have_text(["Not for me"])
    other = new_page("/topic/culture")  # another browser still sees it
    expect(other.locator(".post .body")).to_have_text(["Not for me"])
    assert page.problems == []


def test_the_home_feed_shows_new_topic_posts_live(new_page):
    home = new_page("/")
    wait_live(home)
    writer = new_page("/topic/sport")
    writer.get_by_label("Write a post").fill("Full time: 2-1")
    writer.get_by_role("button", name="Post").click()
    expect(home.locator(".post .body")).to_have_text(["Full time: 2-1"])
    expect(home.locator("[data-trending] a").first).to_have_text("#sport")
    assert home.problems == []


def test_the_live_feed_says_when_it_is_paused_and_recovers(new_page, browser):
    from tests.conftest import DaphneServer

    server = DaphneServer().start()
    try:
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto("/topic/environment")
        wait_live(page)
        port = server.port
        server.stop()
        expect(page.locator("[data-live-status]")).to_contain_text("paused")
        server = DaphneServer(port=port).start()
        wait_live(page)  # reconnected and re-joined its topic
        writer = new_page("/topic/environment")
        writer.get_by_label("Write a post").fill("Back again")
        writer.get_by_role("button", name="Post").click()
        expect(page.locator(".post .body")).to_have_text(["Back again"])
        context.close()
    finally:
        server.stop()


def test_posting_from_home_goes_to_the_chosen_topic(new_page):
    home = new_page("/")
    reader = new_page("/topic/technology")
    wait_live(reader)
    home.get_by_label("Topic", exact=True).select_option("technology")
    home.get_by_label("Write a post").fill("Posted from home")
    home.get_by_role("button", name="Post").click()
    expect(reader.locator(".post .body")).to_have_text(["Posted from home"])
    expect(home.locator(".post .topic")).to_have_text(["#technology"])
    assert home.problems == []
    assert reader.problems == []


def test_words_typed_while_a_post_is_sending_are_kept(new_page):
    """The post's own answer is held back; meanwhile the writer starts the next one
    (and the post shows through the live feed). When the answer comes, only the sent
    words leave the composer."""
    page = new_page("/topic/culture")
    wait_live(page)
    held = []
    page.route("**/api/posts", lambda route: held.append(route))
    area = page.get_by_label("Write a post")
    area.fill("Sent first")
    page.get_by_role("button", name="Post").click()
    for _ in range(100):  # the page's proof of work and sealing, then the held request
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the post was never sent"
    area.fill("The next thought")
    held[0].continue_()
    expect(page.locator(".post .body").first).to_have_text("Sent first")
    expect(page.locator("[data-composer-status]")).to_have_text("Sent.")
    expect(area).to_have_value("The next thought")
    assert page.problems == []
