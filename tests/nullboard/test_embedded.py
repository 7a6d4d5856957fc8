"""The embedded store: with REDIS_URL unset the site runs on in-process fakeredis."""

import json
import os

import pytest

from tests.conftest import DaphneServer, HttpClient

HEALTH_INTERVAL = 0.1  # the hub's heartbeat interval on this test's server


@pytest.fixture
def embedded_server():
    env = {"NB_TEST_EMBEDDED": "1", "NB_TEST_HEALTH_INTERVAL": str(HEALTH_INTERVAL)}
    server = DaphneServer(env=env)
    server.env.pop("REDIS_URL", None)
    server.start()
    yield server
    server.stop()


def test_it_says_data_lives_in_this_process_and_serves_sessions(embedded_server):
    client = HttpClient(embedded_server.url)
    assert client.get("/")[0] == 200
    status, _, body = client.post("/api/session")
    assert status == 200
    first = json.loads(body)
    status, _, body = client.post("/api/session")
    assert json.loads(body)["username"] == first["username"]  # the session persisted
    printed = embedded_server.stop()
    assert printed.count("data lives in this process only") == 1


def test_lua_scripts_run_on_the_embedded_store(embedded_server):
    client = HttpClient(embedded_server.url)
    client.get("/")
    session = json.loads(client.post("/api/session")[2])
    # A write guarded by proof of work exercises the Lua consume script.
    from tests.pow import solve

    fields = {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }
    status, _, body = client.post("/api/rooms", fields)
    assert status == 201, body


def test_settings_pick_the_in_memory_channel_layer_without_redis():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(NB_TEST_EMBEDDED="1", DJANGO_SETTINGS_MODULE="tests.settings")
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "from nullboard import redis_utils;"
        "print(s.CHANNEL_LAYERS['default']['BACKEND']);"
        "print(type(redis_utils.client().connection_pool.get_connection()).__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    lines = result.stdout.split()
    assert lines[0] == "channels.layers.InMemoryChannelLayer", result.stderr
    assert lines[1].startswith("fakeredis")


def test_redis_url_points_cache_sessions_and_channels_at_redis(settings):
    if settings.REDIS_URL is None:
        pytest.skip("no real Redis in this run")
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    assert settings.SESSION_ENGINE == "nullboard.sessions"  # cache sessions
    layer = settings.CHANNEL_LAYERS["default"]
    assert layer["BACKEND"].startswith("channels_redis")
    assert layer["CONFIG"]["hosts"] == [settings.REDIS_URL]


def test_the_live_feed_stays_open_and_delivers_on_the_in_memory_layer(embedded_server):
    """The hub's heartbeats go through the in-memory layer too: an idle socket
    outlives the point where unheard heartbeats would close it, then hears a post."""
    import time

    from nullboard.live import hub as live_hub
    from tests.boards.helpers import blob
    from tests.boards.wsclient import next_post, subscribe
    from tests.reliability.conftest import session_client, solved

    socket = subscribe(embedded_server, "news")
    # An absence check (no close comes): nothing outside the server process marks
    # "heartbeats came back", so the socket is given time for two more heartbeats
    # than would close it unheard, on an interval shortened for this server.
    time.sleep(HEALTH_INTERVAL * (live_hub.HEARTBEATS_UNHEARD + 3))
    client = session_client(embedded_server.url)
    body = {"topic": "news", "blob": blob(), **solved(client)}
    status, _, body = client.post("/api/posts", body)
    assert status == 201
    assert next_post(socket)["id"] == json.loads(body)["id"]
    socket.close()
    assert "Live events interrupted" not in embedded_server.stop()
