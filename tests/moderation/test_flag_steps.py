"""A flag is three single-slot steps (moderation.repository.flag_record): the
network's quota, the item's count, the reports log. What one step refuses or a
crash cuts short leaves the API's answers as one script gave them."""

from __future__ import annotations

from boards import services
from moderation import repository
from moderation.repository import quota_key
from nullboard import redis_utils
from tests.moderation.conftest import blob, flag, network_address, visitor


def quota_used(address: str) -> int:
    from antispam.ratelimit import key_for_address

    return redis_utils.client().scard(quota_key(key_for_address(address, wide=True)))


def test_a_flag_the_item_refuses_gives_its_quota_back(post, settings):
    settings.FLAG_QUOTA_PER_NETWORK = 2
    address = network_address()
    client = visitor(address)
    assert flag(client, "post", post["id"]).status_code == 202
    assert quota_used(address) == 1
    # Already flagged by this network: 202 as before, and the reservation goes back.
    assert flag(client, "post", post["id"]).status_code == 202
    assert quota_used(address) == 1
    services.post_remove(
        post_id=(gone := services.post_create(topic="news", blob=blob(), author="a-b-1234"))["id"]
    )
    assert flag(client, "post", gone["id"]).status_code == 404
    assert quota_used(address) == 1
    other = services.post_create(topic="news", blob=blob(), author="a-b-1235")
    last = services.post_create(topic="news", blob=blob(), author="a-b-1236")
    assert flag(client, "post", other["id"]).status_code == 202
    assert flag(client, "post", last["id"]).status_code == 429
    assert quota_used(address) == 2


def test_over_quota_the_item_step_still_says_already_flagged_first(post, settings):
    settings.FLAG_QUOTA_PER_NETWORK = 1
    record = {"kind": "post", "voter": "v" * 32, "network": "net", "reason": "spam"}
    assert repository.flag_record(item_id=post["id"], **record).counted
    again = repository.flag_record(item_id=post["id"], **record)
    assert (again.found, again.counted, again.over_quota, again.count) == (True, False, False, 1)
    other = services.post_create(topic="news", blob=blob(), author="a-b-1234")
    refused = repository.flag_record(item_id=other["id"], **record)
    assert (refused.found, refused.counted, refused.over_quota) == (True, False, True)
    assert redis_utils.client().scard(quota_key("net")) == 1


def test_a_refund_is_idempotent(post):
    quota = quota_key("net")
    reserved, _ = repository._flag_quota(
        [quota], [redis_utils.lua_table({"token": "t1", "quota": 5, "window_ms": 60_000})]
    )
    assert reserved == 1
    repository._flag_quota(
        [quota], [redis_utils.lua_table({"token": "t2", "quota": 5, "window_ms": 60_000})]
    )
    repository._quota_refund(quota, "t1")
    repository._quota_refund(quota, "t1")
    assert redis_utils.client().smembers(quota) == {b"t2"}


def test_a_flag_cut_short_before_the_reports_step_is_listed_by_the_next(post, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(repository, "_report", lambda kind, item_id, now: None)  # dies here
        assert flag(visitor(), "post", post["id"]).status_code == 202
    assert repository.reports_list() == []
    assert flag(visitor(), "post", post["id"]).status_code == 202
    (report,) = repository.reports_list()
    assert (report.item_id, report.count) == (post["id"], 2)
