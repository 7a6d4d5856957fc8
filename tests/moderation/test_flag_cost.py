"""Hiding a post costs real work: a proof of work per flag, distinct client
networks, more of them for busy threads, and an honest per-network quota."""

from __future__ import annotations

import pytest

from boards import keys, selectors, services
from moderation.repository import flag_key, quota_key, voters_key
from nullboard import redis_utils
from tests.conftest import pow_fields
from tests.moderation.conftest import blob, flag, visitor
from tests.readers import feed_page


def hidden(post) -> bool:
    return redis_utils.client().hexists(keys.post_key(post["id"]), "hidden")


def test_a_flag_without_a_proof_of_work_is_refused_and_counts_nothing(post):
    response = flag(visitor(), "post", post["id"], work=False)
    assert response.status_code == 400
    assert response.json()["error"] == "missing_field"
    bad = {"pow_challenge": "0" * 32, "pow_nonce": "x"}
    client = visitor()
    response = client.post(
        "/api/flags",
        {"type": "post", "id": post["id"], "reason": "spam", **bad},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not redis_utils.client().exists(flag_key("post", post["id"]))


def test_a_solution_is_spent_once(post):
    client = visitor()
    work = pow_fields(client)
    body = {"type": "post", "id": post["id"], "reason": "spam", **work}
    assert client.post("/api/flags", body, content_type="application/json").status_code == 202
    again = client.post("/api/flags", body, content_type="application/json")
    assert again.status_code == 403


@pytest.mark.parametrize(
    "addresses",
    [
        # many sessions in one IPv4 /24
        ["192.0.2.1", "192.0.2.77", "192.0.2.254", "192.0.2.9"],
        # many /64s in one IPv6 /48 (65,536 "clients" before)
        ["2001:db8:aa:1::1", "2001:db8:aa:2::1", "2001:db8:aa:ffff::1", "2001:db8:aa:3::9"],
    ],
)
def test_one_network_counts_once_however_many_sessions_and_addresses(post, addresses, settings):
    settings.FLAG_HIDE_THRESHOLD = 2
    answers = [flag(visitor(address), "post", post["id"]) for address in addresses]
    assert [a.status_code for a in answers] == [202] * len(addresses)
    assert redis_utils.client().hget(flag_key("post", post["id"]), "count") == b"1"
    assert not hidden(post)
    assert not any(a.json()["hidden"] for a in answers)


def test_distinct_networks_hide_and_only_the_hiding_flag_says_so(post, settings):
    settings.FLAG_HIDE_THRESHOLD = 3
    answers = [flag(visitor(), "post", post["id"]).json()["hidden"] for _ in range(4)]
    assert answers == [False, False, True, False]
    assert hidden(post)
    assert feed_page(topic="news")["items"] == []


def test_a_busy_thread_needs_more_networks_up_to_a_ceiling(post, settings):
    settings.FLAG_HIDE_THRESHOLD = 2
    settings.FLAG_COMMENTS_PER_EXTRA_FLAG = 2
    settings.FLAG_HIDE_THRESHOLD_MAX = 4
    for _ in range(3):  # 3 comments: threshold 2 + 3 // 2 = 3
        services.comment_create(post_id=post["id"], blob=blob(), author="a-b-1234")
    answers = [flag(visitor(), "post", post["id"]).json()["hidden"] for _ in range(3)]
    assert answers == [False, False, True]
    other = services.post_create(topic="news", blob=blob(), author="a-b-1234")
    for _ in range(40):  # 40 comments would ask for 22; the ceiling says 4
        services.comment_create(post_id=other["id"], blob=blob(), author="a-b-1234")
    answers = [flag(visitor(), "post", other["id"]).json()["hidden"] for _ in range(4)]
    assert answers == [False, False, False, True]


def test_a_comment_takes_its_threads_threshold(post, comment, settings):
    settings.FLAG_HIDE_THRESHOLD = 1
    settings.FLAG_COMMENTS_PER_EXTRA_FLAG = 1  # one comment in the thread: 2 networks
    assert flag(visitor(), "comment", comment["id"]).json()["hidden"] is False
    assert flag(visitor(), "comment", comment["id"]).json()["hidden"] is True
    assert selectors.comments_list(post_id=post["id"]) == []


def test_voters_are_kept_as_hmacs_of_network_and_item(post, comment):
    address = "2001:db8:77:5::3"
    flag(visitor(address), "post", post["id"])
    flag(visitor(address), "comment", comment["id"])
    (on_post,) = redis_utils.client().smembers(voters_key("post", post["id"]))
    (on_comment,) = redis_utils.client().smembers(voters_key("comment", comment["id"]))
    assert on_post != on_comment  # not linkable from one item to another
    for voter in (on_post, on_comment):
        assert b"2001" not in voter and b"db8" not in voter and len(voter) == 32


def test_the_network_quota_is_a_429_whose_retry_after_is_honest(post, settings):
    settings.FLAG_QUOTA_PER_NETWORK = 2
    settings.FLAG_QUOTA_WINDOW_SECONDS = 2
    posts = [services.post_create(topic="news", blob=blob(), author="a-b-1234") for _ in range(3)]
    # two /64s of one /48: one network, one quota
    first, second = visitor("2001:db8:99:1::1"), visitor("2001:db8:99:2::1")
    assert flag(first, "post", posts[0]["id"]).status_code == 202
    assert flag(second, "post", posts[1]["id"]).status_code == 202
    refused = flag(first, "post", posts[2]["id"])
    assert refused.status_code == 429
    assert refused.json()["error"] == "flag_quota"
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 2
    assert not redis_utils.client().exists(flag_key("post", posts[2]["id"]))
    # The window is the quota key's Redis TTL: no sleeping it out. Retry-After is
    # honest if the key is gone by then (and it is rounded up by under a second).
    (quota,) = redis_utils.client().scan_iter(match=quota_key("*"))
    left_ms = redis_utils.client().pttl(quota)
    assert 0 < left_ms <= wait * 1000 < left_ms + 1000
    redis_utils.client().delete(quota)  # what Redis does when that TTL runs out
    assert flag(first, "post", posts[2]["id"]).status_code == 202


def test_an_exhausted_network_keeps_its_proof_of_work(post, settings):
    settings.FLAG_QUOTA_PER_NETWORK = 1
    other = services.post_create(topic="news", blob=blob(), author="a-b-1234")
    client = visitor()
    assert flag(client, "post", post["id"]).status_code == 202
    work = pow_fields(client)
    body = {"type": "post", "id": other["id"], "reason": "spam", **work}
    assert client.post("/api/flags", body, content_type="application/json").status_code == 429
    settings.FLAG_QUOTA_PER_NETWORK = 2  # the quota frees up: the same solution still works
    assert client.post("/api/flags", body, content_type="application/json").status_code == 202
