"""Redis outages: a JSON 503 on the API, a friendly page elsewhere, and recovery."""

import json
import time
from unittest import mock

import pytest

from tests.conftest import DaphneServer, HttpClient

pytestmark = pytest.mark.redis


def wait_until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_an_outage_is_a_503_and_the_site_recovers_without_a_restart(redis_server):
    web = DaphneServer(env={"REDIS_URL": redis_server.url}).start()
    try:
        client = HttpClient(web.url)
        assert client.get("/")[0] == 200
        assert client.post("/api/session")[0] == 200

        redis_server.stop()
        status, headers, body = client.post("/api/session")
        assert status == 503
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"] == "unavailable"
        assert headers["Retry-After"]

        status, headers, body = HttpClient(web.url).get("/")
        assert status == 503
        assert b"Back in a moment" in body
        assert b"Traceback" not in body

        redis_server.start()  # same port, empty data
        assert wait_until(lambda: client.post("/api/session")[0] == 200)
        assert HttpClient(web.url).get("/")[0] == 200
    finally:
        printed = web.stop()
    assert "Traceback" not in printed


def test_a_session_lookup_during_an_outage_is_a_503_not_an_anonymous_visitor(client):
    import redis
    from django.conf import settings
    from django.core.cache import caches

    from nullboard.sessions import SessionStore

    key = client.post("/api/session").cookies["nb_session"].value

    cache = caches[settings.SESSION_CACHE_ALIAS]
    gone = redis.exceptions.ConnectionError("gone")
    with mock.patch.object(cache, "get", side_effect=gone), pytest.raises(type(gone)):
        SessionStore(key).load()
    with mock.patch.object(cache, "get", side_effect=ValueError("bad key")):
        assert SessionStore(key).load() == {}  # other errors still reset, as in Django
    assert SessionStore(key).load()["nb_name"]  # and a working store finds it
