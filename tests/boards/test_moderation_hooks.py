"""Moderation hooks: hide or remove a post or comment everywhere, live."""

from __future__ import annotations

import pytest

from boards import events, keys, selectors, services
from nullboard import redis_utils
from tests.readers import feed_page

from .helpers import keys_matching, make_comment, make_post


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        events, "publish", lambda groups, event, payload: sent.append((groups, event, payload))
    )
    return sent


def test_hiding_a_post_takes_it_off_every_feed(published):
    post = make_post(topic="news")
    assert services.post_hide(post_id=post["id"]) is True
    assert feed_page(topic="news")["items"] == []
    assert feed_page()["items"] == []
    assert selectors.post_get(post_id=post["id"]) is None
    assert selectors.comments_list(post_id=post["id"]) is None
    assert published[-1] == (
        ["topic.news", "feed.home"],
        "post:hidden",
        {"id": post["id"], "topic": "news"},
    )


def test_a_hidden_post_takes_no_comments():
    post = make_post()
    services.post_hide(post_id=post["id"])
    with pytest.raises(services.BoardsError):
        make_comment(post["id"])


def test_removing_a_post_takes_its_comments(published):
    post = make_post(topic="news")
    visible = make_comment(post["id"])
    hidden = make_comment(post["id"])
    services.comment_hide(comment_id=hidden["id"])
    assert services.post_remove(post_id=post["id"]) is True
    conn = redis_utils.client()
    assert conn.exists(keys.post_key(post["id"])) == 0
    assert conn.exists(keys.comment_key(visible["id"])) == 0
    assert conn.exists(keys.comment_key(hidden["id"])) == 0
    assert keys_matching("nb:post:*") == []
    assert feed_page()["items"] == []
    assert published[-1][1:] == ("post:removed", {"id": post["id"], "topic": "news"})


def test_hiding_a_comment_takes_it_off_the_list(published):
    post = make_post(topic="news")
    kept = make_comment(post["id"])
    gone = make_comment(post["id"])
    assert services.comment_hide(comment_id=gone["id"]) is True
    assert selectors.comments_list(post_id=post["id"]) == [kept]
    assert selectors.post_get(post_id=post["id"])["comment_count"] == 1
    assert published[-1] == (
        ["topic.news", "feed.home"],
        "comment:hidden",
        {"id": gone["id"], "post": post["id"], "topic": "news"},
    )
    assert redis_utils.client().ttl(keys.post_hidden_comments_key(post["id"])) > 0


def test_removing_a_comment_deletes_it(published):
    room = services.room_create()["room"]
    post = make_post(room=room)
    comment = make_comment(post["id"])
    assert services.comment_remove(comment_id=comment["id"]) is True
    assert redis_utils.client().exists(keys.comment_key(comment["id"])) == 0
    assert selectors.comments_list(post_id=post["id"]) == []
    assert published[-1] == (
        [f"room.{room}"],
        "comment:removed",
        {"id": comment["id"], "post": post["id"], "room": room},
    )


def test_moderating_a_missing_item_does_nothing(published):
    published.clear()
    assert services.post_hide(post_id="0" * 16) is False
    assert services.post_remove(post_id="0" * 16) is False
    assert services.comment_hide(comment_id="0" * 16) is False
    assert services.comment_remove(comment_id="not an id") is False
    assert published == []


def test_hiding_twice_announces_once(published):
    post = make_post()
    published.clear()
    assert services.post_hide(post_id=post["id"]) is True
    assert services.post_hide(post_id=post["id"]) is False
    assert len(published) == 1


def test_unhiding_a_post_puts_it_back_in_place(published):
    older = make_post(topic="news")
    post = make_post(topic="news")
    newer = make_post(topic="news")
    services.post_hide(post_id=post["id"])
    assert services.post_unhide(post_id=post["id"]) is True
    ids = [p["id"] for p in feed_page(topic="news")["items"]]
    assert ids == [newer["id"], post["id"], older["id"]]
    assert post["id"] in [p["id"] for p in feed_page()["items"]]
    assert published[-1] == (["topic.news", "feed.home"], "post:restored", post)


def test_unhiding_a_visible_or_missing_post(published):
    post = make_post(topic="news")
    assert services.post_unhide(post_id=post["id"]) is False
    assert services.post_unhide(post_id="0" * 16) is None


def test_unhiding_a_comment_puts_it_back(published):
    post = make_post(topic="news")
    comment = make_comment(post["id"])
    later = make_comment(post["id"])
    services.comment_hide(comment_id=comment["id"])
    assert services.comment_unhide(comment_id=comment["id"]) is True
    assert selectors.comments_list(post_id=post["id"]) == [comment, later]
    assert published[-1][1] == "comment:restored"
    assert services.comment_unhide(comment_id=comment["id"]) is False
    services.post_remove(post_id=post["id"])
    assert services.comment_unhide(comment_id=comment["id"]) is None
