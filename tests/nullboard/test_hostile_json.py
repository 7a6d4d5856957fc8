"""Hostile JSON on every JSON write endpoint: 50,000 nested levels, a 5,000-digit
integer, numbers out of range. Always a JSON 400, never a 500, nothing stored."""

from __future__ import annotations

import json

import pytest

from boards import services as boards
from tests.conftest import pow_fields, start_session
from tests.reliability.conftest import blob, redis_snapshot

DEPTH = 50_000
DIGITS = 5_000


@pytest.fixture
def endpoints(client) -> dict[str, dict]:
    """Every JSON write path with a body that is otherwise well formed."""
    start_session(client)
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    comment = boards.comment_create(post_id=post["id"], blob=blob(), author="quiet-owl-1234")
    created = client.post(
        "/api/drops", {"text": "a secret", **pow_fields(client)}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    drop = created.json()
    pow_ = {"pow_challenge": "0" * 32, "pow_nonce": "1"}
    assert comment["id"]
    return {
        "/api/posts": {"topic": "news", "blob": blob(), **pow_},
        f"/api/posts/{post['id']}/comments": {"blob": blob(), **pow_},
        "/api/flags": {"type": "post", "id": post["id"], "reason": "spam", **pow_},
        "/api/rooms": pow_,
        "/api/drops": {"text": "hello", **pow_},
        f"/api/drops/{drop['id']}/open": {"key": drop["keys"][0]},
    }


def assert_json_400(response) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"] == "invalid_json" and body["detail"]


def hostile_bodies(body: dict) -> dict[str, bytes]:
    """``body`` with one hostile value spliced in, as raw JSON text."""
    head = json.dumps(body)[:-1] + (", " if body else "")
    return {
        "nested arrays": (head + '"deep": ' + "[" * DEPTH + "]" * DEPTH + "}").encode(),
        "nested objects": (head + '"deep": ' + '{"a":' * DEPTH + "1" + "}" * DEPTH + "}").encode(),
        "5,000-digit integer": (head + '"n": ' + "9" * DIGITS + "}").encode(),
        "negative huge integer": (head + '"n": -' + "9" * DIGITS + "}").encode(),
        "65-digit integer": (head + '"n": ' + "1" * 65 + "}").encode(),
        "float overflow": (head + '"n": 1e400}').encode(),
        "negative float overflow": (head + '"n": -1e999}').encode(),
        "NaN": (head + '"n": NaN}').encode(),
        "Infinity": (head + '"n": -Infinity}').encode(),
    }


def test_hostile_json_is_a_json_400_on_every_write(client, endpoints):
    before = redis_snapshot()
    for path, body in endpoints.items():
        for name, raw in hostile_bodies(body).items():
            response = client.generic("POST", path, raw, content_type="application/json")
            assert response.status_code != 500, (path, name)
            assert_json_400(response)
    assert redis_snapshot() == before


def test_the_session_endpoint_ignores_a_hostile_body(client):
    """POST /api/session takes no body: a hostile one is never parsed."""
    for raw in hostile_bodies({}).values():
        response = client.generic("POST", "/api/session", raw, content_type="application/json")
        assert response.status_code == 200


@pytest.mark.parametrize("number", ["3" * 40, "-" + "3" * 40, f"{2**53 + 1}", "1e300", "-1e300"])
@pytest.mark.parametrize("name", ["ttl_seconds", "max_views"])
def test_a_number_field_out_of_range_is_refused_not_clamped(client, endpoints, name, number):
    before = redis_snapshot()
    raw = json.dumps({"text": "hi", **pow_fields(client)})
    raw = raw[:-1] + f', "{name}": {number}' + "}"
    response = client.generic("POST", "/api/drops", raw.encode(), content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_field"
    assert len(redis_snapshot()) <= len(before) + 2  # a fresh session and challenge only


def test_sane_numbers_still_parse(client, endpoints):
    """The bounds refuse only what no field needs: a drop with a life in seconds."""
    body = {"text": "hello", "ttl_seconds": 300, "max_views": 2, **pow_fields(client)}
    response = client.post("/api/drops", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["max_views"] == 2
