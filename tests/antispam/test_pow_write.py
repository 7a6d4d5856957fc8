"""The write decorator validates the body before it spends the proof of work: a
refused body leaves the challenge usable, for every write."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings

from boards import services as boards
from tests.conftest import pow_fields, start_session
from tests.reliability.conftest import blob


@pytest.fixture(autouse=True)
def _no_media_left():
    yield
    for folder in ("voice", "qr"):
        shutil.rmtree(settings.MEDIA_ROOT / folder, ignore_errors=True)


@pytest.fixture
def writes(client) -> list[tuple[str, dict, dict, int]]:
    """(path, a refused body, a good body, the good body's status) for each write."""
    start_session(client)
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    flag = {"type": "post", "id": post["id"], "reason": "spam"}
    return [
        ("/api/posts", {"topic": "News!", "blob": blob()}, {"topic": "news", "blob": blob()}, 201),
        (
            "/api/posts",
            {"topic": "news", "blob": "bm90IGEgYmxvYg=="},
            {"topic": "news", "blob": blob()},
            201,
        ),
        (f"/api/posts/{post['id']}/comments", {"blob": 5}, {"blob": blob()}, 201),
        ("/api/rooms", {"key_check": "x"}, {}, 201),
        ("/api/flags", {**flag, "reason": "boring"}, flag, 202),
        ("/api/drops", {"text": "x", "ttl_seconds": 1}, {"text": "a secret"}, 201),
        ("/api/drops", {"seal": {"v": 99}}, {"text": "a secret"}, 201),
    ]


def test_a_refused_body_never_spends_the_challenge(client, writes):
    for path, bad, good, status in writes:
        proof = pow_fields(client)
        refused = client.post(path, {**bad, **proof}, content_type="application/json")
        assert refused.status_code == 400, (path, refused.content)
        accepted = client.post(path, {**good, **proof}, content_type="application/json")
        assert accepted.status_code == status, (path, accepted.content)  # the same challenge
        again = client.post(path, {**good, **proof}, content_type="application/json")
        assert again.status_code == 403 and again.json()["error"] == "pow_expired"


def test_a_missing_target_is_refused_before_the_challenge_is_spent(client):
    proof = pow_fields(client)
    body = {"blob": blob(), **proof}
    refused = client.post(
        "/api/posts/0123456789abcdef/comments", body, content_type="application/json"
    )
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    accepted = client.post(
        f"/api/posts/{post['id']}/comments", body, content_type="application/json"
    )
    assert accepted.status_code == 201
