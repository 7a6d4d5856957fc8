"""The public moderation log: counted with the action, public reasons only,
gone with the content it speaks of."""

from __future__ import annotations

import time
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from boards import keys, services
from moderation.log import REASON_MAX_CHARS, log_days
from nullboard import redis_utils
from tests.moderation.conftest import flag, visitor


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def today() -> dict:
    days = log_days()
    assert len(days) == 1
    return days[0]


def test_it_counts_a_community_hide_with_the_flag_reason(post, settings):
    settings.FLAG_HIDE_THRESHOLD = 2
    flag(visitor(), "post", post["id"], "spam")
    assert log_days() == []  # one flag hides nothing, so nothing is counted
    flag(visitor(), "post", post["id"], "spam")
    day = today()
    assert day["posts_hidden"] == 1 and day["comments_hidden"] == 0
    assert day["reasons"] == [
        {"action": "hidden", "kind": "post", "reason": "Community flags: spam", "count": 1}
    ]


def test_it_counts_a_restore_and_a_removal_with_their_public_reasons(post, comment):
    services.post_hide(post_id=post["id"])
    services.comment_hide(comment_id=comment["id"])
    run("moderation_restore", "post", post["id"], "--reason", "Satire, not harassment.")
    run("moderation_remove", "comment", comment["id"], "--reason", "Doxxing: a home address.")
    day = today()
    assert (day["posts_hidden"], day["comments_hidden"]) == (1, 1)
    assert (day["posts_restored"], day["comments_removed"]) == (1, 1)
    assert (day["comments_restored"], day["posts_removed"]) == (0, 0)
    said = {(r["action"], r["kind"], r["reason"]) for r in day["reasons"]}
    assert said == {
        ("restored", "post", "Satire, not harassment."),
        ("removed", "comment", "Doxxing: a home address."),
    }


def test_a_restore_of_an_item_that_was_not_hidden_counts_nothing(post):
    run("moderation_restore", "post", post["id"], "--reason", "Nothing to undo.")
    assert log_days() == []


def test_a_failed_removal_counts_nothing():
    with pytest.raises(CommandError):
        run("moderation_remove", "post", "0123456789abcdef", "--reason", "Gone already.")
    assert log_days() == []


def test_a_too_long_reason_is_refused_before_anything_changes(post):
    with pytest.raises(CommandError, match=f"at most {REASON_MAX_CHARS}"):
        run("moderation_remove", "post", post["id"], "--reason", "x" * (REASON_MAX_CHARS + 1))
    assert services.selectors.post_get(post_id=post["id"]) is not None
    assert log_days() == []


def test_a_reason_with_control_characters_is_refused(post):
    with pytest.raises(CommandError, match="control"):
        run("moderation_remove", "post", post["id"], "--reason", "bad\x1b[31m red")
    assert services.selectors.post_get(post_id=post["id"]) is not None


def test_entries_name_no_item_and_expire_with_the_content(post, settings):
    services.post_remove(post_id=post["id"], reason="Spam ring.")
    raw = redis_utils.client().zrange(keys.modlog_key(), 0, -1, withscores=True)
    assert len(raw) == 1
    entry, until = raw[0][0].decode(), int(raw[0][1])
    assert post["id"] not in entry and "test-author" not in entry
    longest = max(settings.POST_TTL_SECONDS, settings.COMMENT_TTL_SECONDS)
    assert abs(until - (time.time() + longest)) < 5
    assert 0 < redis_utils.client().ttl(keys.modlog_key()) <= longest
    # Once the longest life has passed, the count is gone from the page.
    assert log_days(now=until + 1) == []


def test_old_entries_are_dropped_when_the_next_action_is_counted(settings):
    settings.POST_TTL_SECONDS = settings.COMMENT_TTL_SECONDS = 3600
    with time_machine.travel(1_900_000_000, tick=False):
        first = services.post_create(topic="news", blob=_blob(), author="a-b-1")
        services.post_remove(post_id=first["id"])
    with time_machine.travel(1_900_000_000 + 3601, tick=False):
        second = services.post_create(topic="news", blob=_blob(), author="a-b-2")
        services.post_remove(post_id=second["id"])
        assert redis_utils.client().zcard(keys.modlog_key()) == 1


def test_days_are_utc_days_newest_first(settings):
    with time_machine.travel(1_900_000_000, tick=False):  # 2030-03-17 17:46 UTC
        services.post_remove(post_id=_post()["id"], reason="Day one.")
    with time_machine.travel(1_900_000_000 + 86400, tick=False):
        services.post_remove(post_id=_post()["id"], reason="Day two.")
        days = log_days()
    assert [d["day"] for d in days] == ["2030-03-18", "2030-03-17"]
    assert [d["posts_removed"] for d in days] == [1, 1]


def test_the_page_shows_counts_and_reasons_and_no_ids(post, comment):
    services.post_hide(post_id=post["id"], reason="Community flags: spam")
    run("moderation_restore", "post", post["id"], "--reason", "Not spam after all.")
    run("moderation_remove", "comment", comment["id"], "--reason", "Malware link.")
    response = Client().get("/moderation")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="posts_hidden">1<' in html
    assert 'data-count="posts_restored">1<' in html
    assert 'data-count="comments_removed">1<' in html
    assert "Not spam after all." in html and "Malware link." in html
    assert post["id"] not in html and comment["id"] not in html
    assert "test-author" not in html


def test_the_page_says_when_nothing_happened():
    response = Client().get("/moderation")
    assert response.status_code == 200
    assert "data-modlog-empty" in response.content.decode()


def test_a_reason_is_escaped_on_the_page(post):
    services.post_remove(post_id=post["id"], reason="<script>alert(1)</script>")
    html = Client().get("/moderation").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def _blob() -> str:
    from tests.moderation.conftest import blob

    return blob()


def _post() -> dict:
    return services.post_create(topic="news", blob=_blob(), author="a-b-3")
