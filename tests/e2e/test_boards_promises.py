"""Boards keep their promises in the real browser: nothing typed leaves a page
without JavaScript, rooms without their key show nothing of the room, phones can
do everything at 24x24 px targets, and moderation says what happened."""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from boards import services
from tests.conftest import DaphneServer
from tests.e2e.test_boards_catch_up import Writer, topic_key

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECRET_WORDS = "zebra-quartz plaintext never-leaves"


def wait_live(page) -> None:
    expect(page.locator("[data-live-status]")).to_have_text("Live", timeout=20000)


@pytest.fixture
def server():
    """A daphne of our own, so its log can be read; behind a pretend proxy, so a page
    can come from a network of its own (flags count networks, not visitors)."""
    instance = DaphneServer(env={"TRUSTED_PROXY_COUNT": "1"}).start()
    yield instance
    instance.stop()


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def make(path: str | None, *, viewport=DESKTOP, javascript: bool = True, address: str = ""):
        context = browser.new_context(
            base_url=server.url,
            viewport=viewport,
            java_script_enabled=javascript,
            extra_http_headers={"X-Forwarded-For": address} if address else None,
        )
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.on(
            "console",
            lambda msg: page.problems.append(msg.text) if msg.type == "error" else None,
        )
        if path:
            page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()


def record(page) -> list[str]:
    sent: list[str] = []

    def on_request(request):
        sent.append(request.method + " " + request.url)
        sent.append(request.post_data or "")

    page.on("request", on_request)
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(str(p))))
    return sent


# --- No plaintext leaves a page without JavaScript ----------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_without_javascript_nothing_typed_is_sent_or_logged(open_page, server, viewport):
    writer = Writer(server.url)
    post = writer.post("a post", topic="news")
    room = writer.room()
    paths = ["/", "/topic/news", f"/r/{room[2]}", f"/post/{post['id']}"]
    for path in paths:
        page = open_page(None, viewport=viewport, javascript=False)
        sent = record(page)
        page.goto(path)
        # (Playwright's text and role engines skip <noscript>: read it by class.)
        notice = page.locator("noscript .needs-js")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Boards need JavaScript")
        expect(notice.locator("a")).to_have_attribute("href", "/drops/new")
        assert "Connecting" not in page.content()
        area = page.locator("#composer-text")
        if "/r/" in path:
            expect(area).to_be_hidden()  # a room shows nothing until its key is checked
        else:
            expect(area).to_be_disabled()
            area.click(force=True)
            page.keyboard.type(SECRET_WORDS)
            page.keyboard.press("Enter")
            page.keyboard.press("Control+Enter")
            page.locator("[data-composer] button[type=submit]").click(force=True)
            # Absence checks here and below: no event marks "nothing was sent", so a
            # send gets a grace of 300 ms to show up.
            page.wait_for_timeout(300)
            # What a visitor can do sends nothing at all...
            assert not [item for item in sent if item.startswith("POST ")], (path, sent)
            # ...and even a submit forced from outside carries none of the words.
            area.evaluate(
                "(node, words) => { node.value = words; node.form.requestSubmit(); }", SECRET_WORDS
            )
        page.wait_for_timeout(300)
        for word in SECRET_WORDS.split():
            assert not [item for item in sent if word in item], (path, sent)
            assert word not in server.printed()


def test_with_javascript_the_composer_turns_on(open_page):
    page = open_page("/topic/news")
    expect(page.get_by_label("Write a post")).to_be_enabled()
    expect(page.locator("noscript")).to_have_count(1)
    expect(page.locator("noscript .needs-js")).to_be_hidden()


# --- Rooms without their key ----------------------------------------------------------


def room_shows_nothing(page) -> None:
    expect(page.locator("[data-missing-key]")).to_be_visible()
    for selector in [".post", ".comment", ".author", "time", ".comment-count", ".flag"]:
        expect(page.locator(selector)).to_have_count(0)
    expect(page.locator("#composer-text")).to_have_count(0)
    expect(page.locator("[data-live-status]")).to_have_count(0)
    expect(page.locator("[data-invite]")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Hide|Flag|Copy"))).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_room_without_its_key_or_with_a_wrong_one_shows_nothing(open_page, server, viewport):
    writer = Writer(server.url)
    room = writer.room()
    raw, secret, room_id = room
    made = writer.post("meet at noon", room=room)
    writer.comment(made, "ok", raw)
    empty_room = writer.room()

    owner = open_page(f"/r/{room_id}#k={secret}", viewport=viewport)
    expect(owner.locator(".post .body")).to_have_text(["meet at noon"])

    keyless = open_page(f"/r/{room_id}", viewport=viewport)
    room_shows_nothing(keyless)
    expect(keyless.locator("[data-missing-key]")).to_contain_text("This link has no key")
    expect(keyless.locator("[data-missing-key]")).to_contain_text("full invite link")

    wrong = secrets.token_urlsafe(32)[:43]
    for path in (f"/r/{room_id}#k={wrong}", f"/r/{empty_room[2]}#k={wrong}"):
        page = open_page(path, viewport=viewport)
        room_shows_nothing(page)
        expect(page.locator("[data-missing-key]")).to_contain_text("does not open the room")

    # A room post's own page, keyless: nothing of it either.
    post_page = open_page(f"/post/{made['id']}", viewport=viewport)
    room_shows_nothing(post_page)
    for page in (owner, keyless, post_page):
        assert page.problems == []


# --- Phones can do everything, and every target is at least 24x24 -------------------------

SMALL_TARGETS = """() => {
  const out = [];
  for (const node of document.querySelectorAll('a, button, summary, input, select, textarea')) {
    const box = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    // WCAG 2.5.8 exempts links inside a sentence.
    const parent = node.parentElement;
    if (node.tagName === 'A' && parent && parent.matches('p, li.hint') &&
        parent.textContent.trim() !== node.textContent.trim()) continue;
    if (node.matches('.skip-link')) continue;  // off screen until focused
    if (box.width < 24 || box.height < 24) {
      const name = node.textContent.trim().slice(0, 30);
      out.push(`${node.tagName} "${name}" ${box.width}x${box.height}`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_control_is_at_least_24_px(open_page, server, viewport):
    writer = Writer(server.url)
    post = writer.post("something to read", topic="news")
    writer.comment(post, "a reply", topic_key("news"))
    room = writer.room()
    writer.post("room talk", room=room)
    paths = [
        "/",
        "/topic/news",
        f"/r/{room[2]}#k={room[1]}",
        f"/post/{post['id']}",
        "/trending",
        "/rooms",
        "/rules",
        "/moderation",
    ]
    for path in paths:
        page = open_page(path, viewport=viewport)
        if path not in ("/trending", "/rooms", "/rules", "/moderation"):
            wait_live(page)
        if page.locator(".flag-menu summary").count():
            page.locator(".flag-menu summary").first.click()
        assert page.evaluate(SMALL_TARGETS) == [], path


def test_a_phone_reaches_rooms_topics_trending_and_show_hidden(open_page):
    page = open_page("/", viewport=PHONE)
    wait_live(page)
    expect(page.get_by_label("Show hidden")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Trending")
    ).to_be_visible()
    page.locator("summary", has_text="Topics").click()
    page.get_by_role("navigation", name="Topics (menu)").get_by_role("link", name="#sport").click()
    page.wait_for_url(re.compile(r"/topic/sport$"))
    new_room = page.get_by_role("button", name="New private room")
    expect(new_room).to_be_visible()
    box = new_room.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], "visible without scrolling"
    new_room.click()
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22}#k=[A-Za-z0-9_-]{43}$"))
    expect(page.get_by_label("Write a post")).to_be_enabled()
    page.get_by_label("Write a post").fill("from my phone")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator(".post .body")).to_have_text(["from my phone"])
    assert page.problems == []


# --- Words, contrast and headings -----------------------------------------------------------

CONTRAST = """node => {
  const rgb = (text) => text.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let back = node;
  while (back && getComputedStyle(back).backgroundColor.match(/rgba\\(.*, 0\\)|transparent/)) {
    back = back.parentElement;
  }
  const fg = lum(rgb(getComputedStyle(node).color));
  const bg = lum(rgb(getComputedStyle(back || document.body).backgroundColor));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_live_label_has_enough_contrast(browser, server, scheme):
    context = browser.new_context(base_url=server.url, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto("/topic/news")
        wait_live(page)
        assert page.locator("[data-live-status]").evaluate(CONTRAST) >= 4.5
    finally:
        context.close()


def test_the_composer_counts_characters_left_and_a_post_page_has_an_h1(open_page, server):
    page = open_page("/topic/news")
    area = page.get_by_label("Write a post")
    expect(page.locator("[data-char-count]")).to_have_text("6115 characters left")
    area.fill("hello")
    expect(page.locator("[data-char-count]")).to_have_text("6110 characters left")
    area.fill("x" * 6116)
    expect(page.locator("[data-char-count]")).to_have_text("1 character over the limit")
    area.fill("post with a heading")
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator(".post a.open").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A post in #news")
    assert "view" not in page.locator("body").inner_text().lower()


# --- Moderation says what happened ------------------------------------------------------------


def test_hiding_locally_shows_a_notice_with_undo(open_page):
    page = open_page("/topic/culture")
    wait_live(page)
    page.get_by_label("Write a post").fill("maybe not for me")
    page.get_by_role("button", name="Post", exact=True).click()
    post = page.locator(".post").first
    post.get_by_role("button", name="Hide on this device").click()
    expect(post).to_be_hidden()
    notice = page.locator("[data-notice]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Post hidden on this device.")
    notice.get_by_role("button", name="Undo").click()
    expect(post).to_be_visible()
    expect(notice).to_be_hidden()
    page.reload()
    expect(page.locator(".post .body")).to_have_text(["maybe not for me"])


def test_a_hidden_post_says_so_on_its_page_and_live(open_page, server):
    post = Writer(server.url).post("buy cheap watches", topic="culture")
    page = open_page(f"/post/{post['id']}")
    wait_live(page)
    expect(page.locator(".post .body")).to_have_text("buy cheap watches")
    # What enough flags do; from a thread of its own, as a server's would, since
    # Playwright's loop runs in this one (a live event cannot be sent from it).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(services.post_hide, post_id=post["id"]).result()
    expect(page.locator(".gone-note")).to_contain_text("hidden pending review")
    expect(page.locator(".post .body")).to_have_count(0)
    fresh = open_page(f"/post/{post['id']}")
    expect(fresh.get_by_role("heading", level=1)).to_have_text("This post is hidden pending review")
    assert "expired" not in fresh.locator("main").inner_text().replace("has not expired", "")
    assert "buy cheap watches" not in fresh.content()


def test_the_flag_that_hides_a_post_is_confirmed_to_its_flagger(open_page, server, settings):
    Writer(server.url).post("spam spam spam", topic="culture")
    # One visitor per network: IPv4 /24s that differ.
    networks = [f"198.51.{n}.7" for n in range(settings.FLAG_HIDE_THRESHOLD)]
    flaggers = [open_page("/topic/culture", address=address) for address in networks]
    for page in flaggers:
        wait_live(page)
    for n, page in enumerate(flaggers):
        post = page.locator(".post").first
        post.get_by_text("Flag", exact=True).click()
        with page.expect_response("**/api/flags") as answer:
            post.get_by_role("button", name="Spam").click()
        body = answer.value.json()
        assert answer.value.status == 202, body
        assert body["hidden"] is (n == len(flaggers) - 1)
    last = flaggers[-1]
    expect(last.locator("[data-notice]")).to_contain_text("your flag hid this post for everyone")
    expect(last.locator(".post")).to_have_count(0)
    expect(flaggers[0].locator("[data-notice]")).to_be_hidden()


def test_flags_carry_a_proof_of_work(open_page, server):
    Writer(server.url).post("flag me", topic="sport")
    page = open_page("/topic/sport")
    wait_live(page)
    post = page.locator(".post").first
    post.get_by_text("Flag", exact=True).click()
    with page.expect_request("**/api/flags") as sent:
        post.get_by_role("button", name="Harassment").click()
    body = sent.value.post_data_json
    assert body["pow_challenge"] and body["pow_nonce"]
    expect(post.locator(".flag .status")).to_have_text("Flagged. Thank you.")


def test_trending_lists_each_topic_with_its_newest_posts_decrypted(open_page, server):
    writer = Writer(server.url)
    for n in range(4):
        writer.post(f"culture news {n}", topic="culture")
    writer.post("one science post", topic="science")
    for viewport in (DESKTOP, PHONE):
        page = open_page("/trending", viewport=viewport)
        culture = page.locator('[data-topic="culture"]')
        expect(culture.locator(".trending-post")).to_have_text(
            ["culture news 3", "culture news 2", "culture news 1"]
        )
        expect(page.locator('[data-topic="science"] .trending-post')).to_have_text(
            ["one science post"]
        )
        assert "score" not in page.locator("main").inner_text()
        assert page.problems == []
