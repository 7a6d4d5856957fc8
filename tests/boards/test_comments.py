"""Comments: oldest first, counted on the post, never outliving it."""

from __future__ import annotations

import pytest
from django.conf import settings

from boards import keys, selectors, services
from nullboard import redis_utils
from tests.readers import feed_page

from .helpers import blob, keys_matching, make_comment, make_post


def test_it_lists_comments_oldest_first():
    post = make_post()
    ids = [make_comment(post["id"])["id"] for _ in range(3)]
    assert [c["id"] for c in selectors.comments_list(post_id=post["id"])] == ids


def test_it_returns_the_comment_shape():
    post = make_post()
    comment = make_comment(post["id"])
    assert set(comment) == {"id", "post", "author", "blob", "created_at", "expires_at", "cursor"}
    assert selectors.comments_list(post_id=post["id"]) == [comment]


def test_it_counts_comments_on_the_post_and_in_feeds():
    post = make_post()
    make_comment(post["id"])
    make_comment(post["id"])
    assert selectors.post_get(post_id=post["id"])["comment_count"] == 2
    assert feed_page(topic="news")["items"][0]["comment_count"] == 2


def test_a_comment_lives_comment_ttl_when_the_post_has_longer():
    post = make_post()
    comment = make_comment(post["id"])
    ttl = redis_utils.client().ttl(keys.comment_key(comment["id"]))
    assert settings.COMMENT_TTL_SECONDS - 2 <= ttl <= settings.COMMENT_TTL_SECONDS
    assert comment["expires_at"] - comment["created_at"] == settings.COMMENT_TTL_SECONDS


def test_a_comment_never_outlives_its_post(time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    post = make_post()
    # 100 s before the post expires, a comment gets 100 s at most.
    time_machine.move_to(1_900_000_000 + settings.POST_TTL_SECONDS - 100, tick=False)
    redis_utils.client().expire(keys.post_key(post["id"]), 100)  # Redis's clock agrees
    comment = make_comment(post["id"])
    assert post["expires_at"] - 2 <= comment["expires_at"] <= post["expires_at"]
    assert redis_utils.client().ttl(keys.comment_key(comment["id"])) <= 100
    assert redis_utils.client().ttl(keys.post_comments_key(post["id"])) <= 100


def test_expired_comments_drop_out_of_the_list_and_count(time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    post = make_post()
    old = make_comment(post["id"])
    time_machine.move_to(1_900_000_000 + settings.COMMENT_TTL_SECONDS - 5, tick=False)
    fresh = make_comment(post["id"])
    time_machine.move_to(1_900_000_000 + settings.COMMENT_TTL_SECONDS + 1, tick=False)
    assert selectors.comments_list(post_id=post["id"]) == [fresh]
    assert selectors.post_get(post_id=post["id"])["comment_count"] == 1
    assert redis_utils.client().zscore(keys.post_comments_key(post["id"]), old["id"]) is None


def test_it_refuses_a_comment_on_a_missing_post():
    with pytest.raises(services.BoardsError):
        services.comment_create(post_id="0" * 16, blob=blob(), author="x")
    assert keys_matching("nb:comment:*") == []


def test_listing_a_missing_post_gives_none():
    assert selectors.comments_list(post_id="0" * 16) is None


def test_a_room_comment_refreshes_the_room():
    room = services.room_create()["room"]
    post = make_post(room=room)
    redis_utils.client().expire(keys.room_key(room), 30)
    make_comment(post["id"])
    assert redis_utils.client().ttl(keys.room_key(room)) > 30
    assert selectors.trending_list() == []


def test_at_its_expiry_second_a_comment_is_neither_listed_nor_counted(time_machine):
    time_machine.move_to(1_900_000_000.999, tick=False)
    post = make_post()
    comment = make_comment(post["id"])
    time_machine.move_to(comment["expires_at"] - 1, tick=False)
    assert feed_page(topic="news")["items"][0]["comment_count"] == 1
    time_machine.move_to(comment["expires_at"], tick=False)
    assert selectors.post_get(post_id=post["id"])["comment_count"] == 0
    assert feed_page(topic="news")["items"][0]["comment_count"] == 0
    assert selectors.comments_list(post_id=post["id"]) == []
