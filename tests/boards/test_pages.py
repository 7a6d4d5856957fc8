"""Boards pages: rendered by the server, with the feed filled in by the browser."""

from __future__ import annotations

from django.conf import settings

from boards import services

from .helpers import make_post


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
        assert body.count("<script") == body.count('<script type="module"')
