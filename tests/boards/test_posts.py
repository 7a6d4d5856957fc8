"""Post storage: one atomic write with TTLs, feed entries and a trending bump."""

from __future__ import annotations

import pytest
from django.conf import settings

from boards import keys, selectors, services
from nullboard import redis_utils
from tests.readers import feed_page

from .helpers import blob, keys_matching, make_post


def test_it_stores_the_post_with_its_ttl():
    post = make_post(topic="news")
    conn = redis_utils.client()
    assert conn.hget(keys.post_key(post["id"]), "topic") == b"news"
    ttl = conn.ttl(keys.post_key(post["id"]))
    assert settings.POST_TTL_SECONDS - 2 <= ttl <= settings.POST_TTL_SECONDS
    assert post["expires_at"] - post["created_at"] == settings.POST_TTL_SECONDS


def test_it_returns_the_contract_shape():
    post = make_post(topic="news")
    assert set(post) == {
        "id",
        "topic",
        "author",
        "blob",
        "created_at",
        "expires_at",
        "comment_count",
        "cursor",
    }
    assert selectors.post_get(post_id=post["id"]) == post


def test_it_puts_a_topic_post_on_the_topic_and_home_feeds():
    post = make_post(topic="science")
    conn = redis_utils.client()
    assert conn.zscore(keys.feed_key(topic="science"), post["id"]) is not None
    assert conn.zscore(keys.feed_key(), post["id"]) is not None
    assert conn.zscore(keys.TRENDING(), "science") > 0


def test_it_keeps_room_posts_off_home_and_trending():
    room = services.room_create()["room"]
    post = make_post(room=room)
    conn = redis_utils.client()
    assert conn.zscore(keys.feed_key(room=room), post["id"]) is not None
    assert conn.zcard(keys.feed_key()) == 0
    assert selectors.trending_list() == []
    assert feed_page()["items"] == []


def test_every_key_it_writes_carries_a_ttl():
    room = services.room_create()["room"]
    post = make_post(topic="news")
    make_post(room=room)
    services.comment_create(post_id=post["id"], blob=blob(), author="a-b-1000")
    conn = redis_utils.client()
    names = keys_matching("*")
    assert len(names) > 8
    for name in names:
        assert name.startswith(b"nb:")
        assert conn.ttl(name) > 0, name


def test_it_refuses_a_post_to_an_expired_room():
    with pytest.raises(services.BoardsError):
        services.post_create(room="A" * 22, blob=blob(), author="a-b-1000")
    assert keys_matching("*") == []


def test_it_refuses_a_post_with_both_or_neither_place():
    with pytest.raises(ValueError):
        services.post_create(topic="news", room="A" * 22, blob=blob(), author="x")
    with pytest.raises(ValueError):
        services.post_create(blob=blob(), author="x")


def test_concurrent_posts_get_unique_ordered_scores():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        posts = list(pool.map(lambda _: make_post(topic="news"), range(40)))
    conn = redis_utils.client()
    scores = conn.zrange(keys.feed_key(topic="news"), 0, -1, withscores=True)
    assert len(scores) == 40
    assert len({score for _, score in scores}) == 40
    assert {p["id"] for p in posts} == {member.decode() for member, _ in scores}
