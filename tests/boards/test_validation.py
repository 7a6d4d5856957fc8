"""Full-match validation: a trailing newline never passes as a topic, room or id
(``$`` matches before a final newline; the patterns are applied with fullmatch)."""

from __future__ import annotations

import pytest

from boards import selectors, services
from boards.validation import CommentsQuery, PostCreate, is_item_id, is_room, is_topic
from nullboard.api import spec_parse
from nullboard.errors import Invalid
from tests.conftest import pow_fields, start_session
from tests.reliability.conftest import blob

ROOM = "A" * 22
ITEM = "0123456789abcdef"


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\n\n", " ", "\t"])
def test_a_trailing_newline_or_space_is_refused(suffix):
    assert is_topic("sport") and not is_topic("sport" + suffix)
    assert is_room(ROOM) and not is_room(ROOM + suffix)
    assert is_item_id(ITEM) and not is_item_id(ITEM + suffix)
    with pytest.raises(Invalid):
        spec_parse(CommentsQuery, {"after": "12" + suffix})
    with pytest.raises(Invalid):
        spec_parse(PostCreate, {"topic": "sport", "blob": blob(), "author_pubkey": "abc" + suffix})


def test_topic_with_a_newline_never_reaches_trending(client):
    start_session(client)
    body = {"topic": "sport\n", "blob": blob(), **pow_fields(client)}
    response = client.post("/api/posts", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_topic"
    assert selectors.trending_list() == []
    with pytest.raises(ValueError):
        services.post_create(topic="sport\n", blob=blob(), author="quiet-owl-1234")
    assert selectors.trending_list() == []


def test_feeds_refuse_a_topic_or_room_with_a_newline(client):
    assert client.get("/api/posts", {"topic": "sport\n"}).status_code == 400
    assert client.get("/api/posts", {"room": ROOM + "\n"}).status_code == 400
    assert client.get("/api/posts", {"topic": "sport", "cursor": "1\n"}).status_code == 400


def test_item_ids_with_a_newline_are_not_found(client):
    post = services.post_create(topic="sport", blob=blob(), author="quiet-owl-1234")
    assert client.get(f"/api/posts/{post['id']}").status_code == 200
    assert client.get(f"/api/posts/{post['id']}%0A").status_code == 404
    assert client.get(f"/api/posts/{post['id']}%0A/comments").status_code == 404
