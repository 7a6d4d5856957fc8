"""Two daphne processes, live events sharded over two Redis servers, data in one.

Nullboard's data stays in REDIS_URL (its Lua scripts touch several keys at once);
only the channel layer is sharded (CHANNEL_REDIS_URLS), by a consistent hash of
each group's name. Whichever process a request hits, live events and drops work.
"""

from __future__ import annotations

import json

import pytest
import redis

from drops import keys as drop_keys
from tests.boards.helpers import blob
from tests.boards.wsclient import next_post, subscribe
from tests.conftest import DaphneServer, HttpClient, RedisServer
from tests.pow import solve

# topic.news hashes to the first shard, topic.sport to the second (and the home
# feed to the second, trending to the first): both shards carry traffic.
TOPICS = ("news", "sport")


@pytest.fixture
def shards(real_redis):
    servers = [RedisServer().start(), RedisServer().start()]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def two_processes(shards):
    env = {"CHANNEL_REDIS_URLS": ",".join(shard.url for shard in shards)}
    servers = [DaphneServer(env=env).start(), DaphneServer(env=env).start()]
    yield servers
    for server in servers:
        server.stop()


def client(server: DaphneServer) -> HttpClient:
    http = HttpClient(server.url)
    assert http.get("/")[0] == 200  # the CSRF cookie
    return http


def write(http: HttpClient, path: str, body: dict) -> dict:
    status, _, content = http.post("/api/session")
    assert status == 200, content
    session = json.loads(content)
    work = {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }
    status, _, content = http.post(path, {**body, **work})
    assert status == 201, content
    return json.loads(content)


def test_live_events_reach_both_processes_whichever_shard_carries_the_topic(two_processes, shards):
    first, second = two_processes
    sockets = {
        (n, topic): subscribe(server, topic)
        for n, server in enumerate(two_processes)
        for topic in TOPICS
    }
    try:
        channels = [
            {c.decode() for c in redis.Redis.from_url(s.url).pubsub_channels()} for s in shards
        ]
        assert all(any("__group__topic." in c for c in found) for found in channels), channels
        for author, topic in ((first, "news"), (second, "sport"), (second, "news")):
            post = write(client(author), "/api/posts", {"topic": topic, "blob": blob()})
            assert next_post(sockets[0, topic]) == post
            assert next_post(sockets[1, topic]) == post
    finally:
        for ws in sockets.values():
            ws.close()
    for server in two_processes:
        assert "Traceback" not in server.printed()


def test_a_drop_made_on_one_process_opens_on_either(two_processes, real_redis):
    first, second = two_processes
    drop = write(client(first), "/api/drops", {"text": "across processes"})
    opened = []
    for server, key in zip((second, first, second), drop["keys"], strict=True):
        status, _, content = client(server).post(f"/api/drops/{drop['id']}/open", {"key": key})
        assert status == 200, content
        opened.append(json.loads(content))
    assert [o["text"] for o in opened] == ["across processes"] * 3
    assert [o["views_left"] for o in opened] == [2, 1, 0]
    status, _, _ = client(first).post(f"/api/drops/{drop['id']}/open", {"key": drop["keys"][0]})
    assert status == 410
    assert not real_redis.exists(drop_keys.DROP(id=drop["id"]))
