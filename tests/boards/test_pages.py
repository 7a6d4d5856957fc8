"""Boards pages: rendered by the server, with the feed filled in by the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings

from boards import keys, selectors, services
from nullboard import redis_utils
from tests.conftest import pow_fields

from .helpers import blob, keys_matching, make_post


def test_the_home_page_shows_topics_trending_and_the_privacy_note(client):
    make_post(topic="science")
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for topic in settings.BOARD_TOPICS:
        assert f'href="/topic/{topic}"' in body
    assert "#science" in body  # trending
    assert "hides posts at rest" in body
    assert 'aria-current="page">Home' in body
    assert "csrftoken" in response.cookies


def test_a_topic_page_has_a_labelled_composer(client):
    response = client.get("/topic/news")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-topic="news"' in body
    assert '<label for="composer-text">Write a post</label>' in body
    assert f'data-max-bytes="{settings.MAX_BLOB_BYTES}"' in body


def test_an_invalid_topic_is_404(client):
    assert client.get("/topic/Not_A_Slug").status_code == 404


def test_a_room_page_offers_the_invite_link(client):
    room = services.room_create()["room"]
    response = client.get(f"/r/{room}")
    assert response.status_code == 200
    assert "Copy invite link" in response.content.decode()


def test_a_missing_room_is_404(client):
    assert client.get("/r/" + "A" * 22).status_code == 404
    assert client.get("/r/nope").status_code == 404


def test_a_post_page_has_a_comment_composer(client):
    post = make_post(topic="news")
    response = client.get(f"/post/{post['id']}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Write a comment" in body
    assert f'data-max-bytes="{settings.MAX_COMMENT_BLOB_BYTES}"' in body


def test_a_missing_post_page_is_404(client):
    assert client.get("/post/" + "0" * 16).status_code == 404


def test_the_trending_page_lists_topics(client):
    make_post(topic="culture")
    response = client.get("/trending")
    assert response.status_code == 200
    assert "#culture" in response.content.decode()
    assert 'aria-current="page">Trending' in response.content.decode()


def test_pages_carry_no_inline_scripts_or_styles(client):
    room = services.room_create()["room"]
    post = make_post(topic="news")
    for url in ["/", "/topic/news", f"/r/{room}", f"/post/{post['id']}", "/trending"]:
        body = client.get(url).content.decode()
        assert "style=" not in body
        assert "<script>" not in body
        data = body.count('type="application/json"')  # json_script: data, never run
        catalog = body.count('<script src="/jsi18n/')  # Django's JS catalog, a file
        assert body.count("<script") == body.count('<script type="module"') + data + catalog


def board_pages(client) -> dict[str, str]:
    room = services.room_create()["room"]
    post = make_post(topic="news")
    room_post = make_post(room=room)
    urls = ["/", "/topic/news", f"/r/{room}", f"/post/{post['id']}", f"/post/{room_post['id']}"]
    return {url: client.get(url).content.decode() for url in urls}


def test_no_composer_can_send_text_by_itself(client):
    for url, body in board_pages(client).items():
        form = re.search(r"<form[^>]*data-composer[^>]*>.*?</form>", body, re.S).group(0)
        opening = form.split(">", 1)[0]
        assert 'method="post"' in opening, url
        assert "action=" not in opening, url
        # No control of the form has a name, so a browser has nothing to send...
        assert not re.search(r"<(textarea|select|input)[^>]*\bname=", form), url
        # ...and all of them stay disabled until the script turns them on.
        assert re.search(r"<fieldset[^>]*data-composer-fields[^>]*disabled", form), url
        assert form.index("<fieldset") < form.index("<textarea") < form.index("</fieldset>")


def test_every_board_page_explains_that_boards_need_javascript(client):
    for url, body in board_pages(client).items():
        notice = re.search(r"<noscript>(.*?)</noscript>", body, re.S).group(1)
        assert "needs JavaScript" in notice, url
        assert "encrypts" in notice
        assert 'href="/drops/new"' in notice
        # Without the script nothing claims to be connecting.
        assert "Connecting" not in body, url


def test_a_room_page_shows_nothing_of_the_room_until_its_key_is_checked(client):
    room = services.room_create(key_check=blob(60))["room"]
    body = client.get(f"/r/{room}").content.decode()
    assert re.search(r'<div class="feed-body" data-feed-body hidden>', body)
    assert re.search(r"<div[^>]*data-invite hidden>", body)
    assert "Ask the person who invited you" in body
    key_check = re.search(r'data-key-check="([^"]*)"', body).group(1)
    assert key_check == redis_utils.client().get(keys.room_key(room)).decode()


def test_a_room_keeps_the_key_check_its_creator_sends(client):
    fields = pow_fields(client)
    check = blob(60)
    response = client.post(
        "/api/rooms", {"key_check": check, **fields}, content_type="application/json"
    )
    assert response.status_code == 201
    assert selectors.room_key_check(room=response.json()["room"]) == check
    bare = client.post("/api/rooms", pow_fields(client), content_type="application/json")
    assert selectors.room_key_check(room=bare.json()["room"]) == ""


def test_a_bad_key_check_is_refused_before_the_work_is_spent(client):
    fields = pow_fields(client)
    response = client.post(
        "/api/rooms", {"key_check": "not base64!", **fields}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_blob"
    assert keys_matching(keys.ROOM.glob) == []
    again = client.post("/api/rooms", fields, content_type="application/json")
    assert again.status_code == 201  # the same challenge still works


def test_a_post_page_has_an_h1(client):
    post = make_post(topic="news")
    body = client.get(f"/post/{post['id']}").content.decode()
    assert re.search(r"<h1[^>]*>A post in #news</h1>", body)


def test_a_hidden_post_page_says_it_is_hidden_pending_review(client):
    post = make_post(topic="news")
    services.post_hide(post_id=post["id"])
    response = client.get(f"/post/{post['id']}")
    assert response.status_code == 410
    body = response.content.decode()
    assert "hidden pending review" in body
    assert "expired" not in body.replace("has not expired", "")
    assert post["blob"] not in body


def test_the_trending_page_lists_topics_with_their_newest_posts_not_scores(client):
    older = make_post(topic="culture")
    newer = [make_post(topic="culture") for _ in range(3)]
    body = client.get("/trending").content.decode()
    assert "score" not in body
    data = json.loads(re.search(r'id="trending-posts"[^>]*>(.*?)</script>', body, re.S).group(1))
    assert [item["topic"] for item in data] == ["culture"]
    assert [p["id"] for p in data[0]["posts"]] == [p["id"] for p in newer[::-1]]
    assert older["id"] not in body


def test_boards_never_say_views_or_bytes_encrypted():
    root = Path(settings.BASE_DIR)
    files = [*root.glob("templates/boards/*.html"), *root.glob("static/boards/*.js")]
    for path in files:
        text = path.read_text()
        assert not re.search(r"\bviews?\b|view\(s\)", text, re.I), path
        assert "bytes encrypted" not in text, path
