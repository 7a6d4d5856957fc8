"""/healthz, /readyz and /metrics: what operators and platforms poll."""

from __future__ import annotations

import base64

import pytest
import redis

from boards import services
from nullboard import metrics, redis_utils

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def post():
    blob = base64.b64encode(b"\x01" + bytes(40)).decode()
    return services.post_create(topic="news", blob=blob, author="test-author-1000")


def dead_redis() -> redis.Redis:
    """A real client to a port where nothing listens: a real outage, fast."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)


def test_healthz_answers_without_touching_redis(client, monkeypatch):
    calls = []
    monkeypatch.setattr(redis_utils, "client", lambda: calls.append(1) or dead_redis())
    response = client.get("/healthz")
    monkeypatch.undo()
    assert calls == []
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_while_redis_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok"}


def test_readyz_is_503_json_when_redis_is_down(client, monkeypatch):
    monkeypatch.setattr(redis_utils, "client", dead_redis)
    before = metrics.REDIS_ERRORS._value.get()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "redis": "down"}
    assert response["Retry-After"] == "5"
    assert metrics.REDIS_ERRORS._value.get() == before + 1


def test_health_paths_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_health_paths_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/about").status_code == 301


def test_metrics_is_404_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_is_404_for_a_wrong_or_missing_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404


def test_metrics_counts_requests_by_route_name_never_by_path(client, settings, post):
    settings.METRICS_TOKEN = TOKEN
    assert client.get(f"/post/{post['id']}").status_code == 200
    assert client.get(f"/api/posts/{post['id']}").status_code == 200
    assert client.get("/api/posts/0000000000000000").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'nullboard_http_requests_total{method="GET",route="post",status="200"}' in text
    assert 'nullboard_http_requests_total{method="GET",route="api-post",status="404"}' in text
    assert 'nullboard_http_request_duration_seconds_bucket{le="0.005",route="api-post"}' in text
    assert post["id"] not in text and "0000000000000000" not in text
    assert post["author"] not in text
