"""POST /api/flags: one count per visitor, hiding at the threshold, TTL-bound."""

import pytest

from boards import keys, selectors
from moderation.repository import flag_key, reports_key, voters_key
from nullboard import redis_utils
from tests.boards.helpers import keys_matching
from tests.moderation.conftest import flag, visitor
from tests.readers import feed_page


def test_a_flag_is_accepted_with_202(post):
    response = flag(visitor(), "post", post["id"])
    assert response.status_code == 202
    assert redis_utils.client().hget(flag_key("post", post["id"]), "count") == b"1"


def test_one_visitors_flags_count_once(post):
    client = visitor()
    for reason in ("spam", "spam", "other"):
        assert flag(client, "post", post["id"], reason).status_code == 202
    assert redis_utils.client().hget(flag_key("post", post["id"]), "count") == b"1"


def test_the_threshold_hides_a_post_from_every_feed(post, settings):
    settings.FLAG_HIDE_THRESHOLD = 3
    for _ in range(2):
        flag(visitor(), "post", post["id"])
    assert [p["id"] for p in feed_page(topic="news")["items"]] == [post["id"]]
    flag(visitor(), "post", post["id"])
    assert feed_page(topic="news")["items"] == []
    assert feed_page()["items"] == []
    assert redis_utils.client().hget(keys.post_key(post["id"]), "hidden") == b"1"


def test_the_threshold_hides_a_comment_from_its_list(post, comment, settings):
    settings.FLAG_HIDE_THRESHOLD = 2
    for _ in range(2):
        flag(visitor(), "comment", comment["id"], "harassment")
    assert selectors.comments_list(post_id=post["id"]) == []


def test_flags_expire_with_the_item(post):
    flag(visitor(), "post", post["id"])
    item_ttl = redis_utils.client().ttl(keys.post_key(post["id"]))
    for name in (flag_key("post", post["id"]), voters_key("post", post["id"]), reports_key()):
        assert 0 < redis_utils.client().ttl(name) <= item_ttl + 1


@pytest.mark.parametrize(
    "body, code",
    [
        ({"type": "user", "id": "0" * 16, "reason": "spam"}, "invalid_type"),
        ({"type": "post", "id": "0" * 16, "reason": "boring"}, "invalid_reason"),
        ({"type": "post", "id": "../etc", "reason": "spam"}, "invalid_id"),
        ({"type": "post", "id": 5, "reason": "spam"}, "invalid_field"),
        ({"type": "post", "reason": "spam"}, "missing_field"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(body, code):
    client = visitor()
    before = data_keys()
    response = client.post("/api/flags", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert data_keys() == before


def data_keys() -> list[bytes]:
    """Every key but the rate-limit counters (which count bad requests too)."""
    return sorted(k for k in keys_matching("*") if b":rl:" not in k)


def test_an_unknown_item_is_a_404():
    response = flag(visitor(), "post", "0123456789abcdef")
    assert response.status_code == 404
    assert keys_matching("nb:flag:*") == []


def test_a_flag_needs_a_session(post, client):
    response = flag(client, "post", post["id"], work=False)
    assert response.status_code == 403
    assert response.json()["error"] == "no_session"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"type": "post", "id": "{id}\n", "reason": "spam"}, "invalid_id"),
        ({"type": "post\n", "id": "{id}", "reason": "spam"}, "invalid_type"),
        ({"type": "post", "id": "{id}", "reason": "spam\n"}, "invalid_reason"),
    ],
)
def test_a_trailing_newline_is_a_400_that_changes_nothing(post, body, code):
    client = visitor()
    before = data_keys()
    body = {k: v.replace("{id}", post["id"]) for k, v in body.items()}
    response = client.post("/api/flags", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert data_keys() == before
