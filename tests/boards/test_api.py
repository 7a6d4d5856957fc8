"""The boards JSON API: every contract row and every bad input."""

from __future__ import annotations

import pytest
from django.conf import settings

from antispam.pow import leading_zeros
from boards import keys, services
from nullboard import cluster, redis_utils
from tests.conftest import pow_fields, start_session

from .helpers import blob, keys_matching, make_comment, make_post


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json")


def create_post(client, **body):
    body = {"topic": "news", "blob": blob(), **body, **pow_fields(client)}
    return post_json(client, "/api/posts", body)


BOARD_KEYS = (b"nb:post", b"nb:comment", b"nb:feed", b"nb:room", b"nb:trending", b"nb:boards")


def state():
    """The boards keys and their contents (rate-limit counters may move)."""
    conn = redis_utils.client()
    return sorted((k, conn.dump(k)) for k in keys_matching("nb:*") if k.startswith(BOARD_KEYS))


# --- GET /api/posts -------------------------------------------------------------


def test_it_lists_the_home_feed(client):
    news, room_post = make_post(topic="news"), make_post(room=services.room_create()["room"])
    response = client.get("/api/posts")
    assert response.status_code == 200
    assert response.json() == {"items": [news], "next_cursor": None}
    assert room_post["id"] not in response.content.decode()


def test_it_lists_a_topic_feed_with_a_cursor(client):
    ids = [make_post(topic="news")["id"] for _ in range(25)]
    first = client.get("/api/posts", {"topic": "news"}).json()
    second = client.get("/api/posts", {"topic": "news", "cursor": first["next_cursor"]}).json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_it_lists_a_room_feed(client):
    room = services.room_create()["room"]
    post = make_post(room=room)
    response = client.get("/api/posts", {"room": room})
    assert response.status_code == 200
    assert response.json()["items"] == [post]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"topic": "Bad Slug"}, "invalid_topic"),
        ({"topic": "a"}, "invalid_topic"),
        ({"topic": "x" * 40}, "invalid_topic"),
        ({"room": "short"}, "invalid_room"),
        ({"topic": "news", "room": "A" * 22}, "invalid_feed"),
        ({"cursor": "abc"}, "invalid_cursor"),
        ({"cursor": "9" * 30}, "invalid_cursor"),
    ],
)
def test_it_rejects_bad_feed_queries(client, query, code):
    response = client.get("/api/posts", query)
    assert response.status_code == 400
    assert response.json()["error"] == code


def test_it_answers_404_for_an_unknown_room(client):
    response = client.get("/api/posts", {"room": "A" * 22})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- POST /api/posts ------------------------------------------------------------


def test_it_creates_a_topic_post(client):
    session = start_session(client)
    data = blob()
    response = create_post(client, topic="news", blob=data, author_pubkey="abc=", extra="x")
    assert response.status_code == 201
    post = response.json()
    assert post["topic"] == "news"
    assert post["author"] == session["username"]
    assert post["blob"] == data
    assert post["comment_count"] == 0
    assert post["expires_at"] - post["created_at"] == settings.POST_TTL_SECONDS
    assert redis_utils.client().zscore(keys.feed_key(topic="news"), post["id"]) is not None
    assert client.get(f"/api/posts/{post['id']}").json() == post


def test_it_creates_a_room_post(client):
    room = services.room_create()["room"]
    response = create_post(client, topic=None, room=room)
    assert response.status_code == 201
    assert response.json()["room"] == room
    assert client.get("/api/posts").json()["items"] == []


BAD_POSTS = [
    ({"topic": None}, 400, "invalid_feed"),
    ({"room": "A" * 22}, 400, "invalid_feed"),
    ({"topic": "NEWS"}, 400, "invalid_topic"),
    ({"topic": 12}, 400, "invalid_topic"),
    ({"topic": None, "room": "nope"}, 400, "invalid_room"),
    ({"topic": None, "room": "A" * 22}, 404, "not_found"),
    ({"blob": None}, 400, "missing_field"),
    ({"blob": 123}, 400, "invalid_blob"),
    ({"blob": "not base64!"}, 400, "invalid_blob"),
    ({"blob": "AQID"}, 400, "invalid_blob"),  # three bytes: no IV, no tag
    ({"blob": blob(version=7)}, 400, "invalid_blob"),
    ({"blob": "A" * (settings.MAX_BLOB_BYTES + 4)}, 413, "blob_too_large"),
    ({"author_pubkey": "x" * 300}, 400, "invalid_pubkey"),
    ({"author_pubkey": ["x"]}, 400, "invalid_pubkey"),
]


@pytest.mark.parametrize(("change", "status", "code"), BAD_POSTS)
def test_it_rejects_bad_posts_and_changes_nothing(client, change, status, code):
    fields = pow_fields(client)
    before = state()
    body = {"topic": "news", "blob": blob(), **fields, **change}
    response = post_json(client, "/api/posts", body)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert state() == before
    # the challenge was not spent: it still buys one post
    retry = post_json(client, "/api/posts", {"topic": "news", "blob": blob(), **fields})
    assert retry.status_code == 201


def test_it_accepts_a_blob_at_the_limit(client):
    raw_len = settings.MAX_BLOB_BYTES // 4 * 3
    big = blob(size=raw_len)
    assert len(big) == settings.MAX_BLOB_BYTES
    assert create_post(client, blob=big).status_code == 201


def test_it_rejects_malformed_json(client):
    start_session(client)
    response = client.post("/api/posts", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_it_rejects_a_post_without_work(client):
    start_session(client)
    response = post_json(client, "/api/posts", {"topic": "news", "blob": blob()})
    assert response.status_code == 400
    assert response.json()["error"] == "missing_field"
    assert keys_matching("nb:post:*") == []


def test_it_rejects_a_post_without_a_session(client):
    response = post_json(
        client,
        "/api/posts",
        {"topic": "news", "blob": blob(), "pow_challenge": "a" * 32, "pow_nonce": "1"},
    )
    assert response.status_code == 403
    assert keys_matching("nb:post:*") == []


def test_a_challenge_buys_one_post(client):
    fields = pow_fields(client)
    body = {"topic": "news", "blob": blob(), **fields}
    assert post_json(client, "/api/posts", body).status_code == 201
    again = post_json(client, "/api/posts", body)
    assert again.status_code == 403
    assert again.json()["error"] == "pow_expired"


def test_it_rejects_other_methods(client):
    response = client.put("/api/posts")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


# --- GET /api/posts/ID ----------------------------------------------------------


@pytest.mark.parametrize("post_id", ["0" * 16, "nope", "x" * 300])
def test_it_answers_404_for_unknown_posts(client, post_id):
    response = client.get(f"/api/posts/{post_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_it_reads_one_post_with_its_comment_count(client):
    post = make_post()
    make_comment(post["id"])
    response = client.get(f"/api/posts/{post['id']}")
    assert response.status_code == 200
    assert response.json() == {**post, "comment_count": 1}


# --- comments -------------------------------------------------------------------


def test_it_lists_comments_oldest_first(client):
    post = make_post()
    first, second = make_comment(post["id"]), make_comment(post["id"])
    response = client.get(f"/api/posts/{post['id']}/comments")
    assert response.status_code == 200
    assert response.json() == {"items": [first, second]}


def test_it_creates_a_comment(client):
    session = start_session(client)
    post = make_post()
    body = {"blob": blob(), "author_pubkey": "k", **pow_fields(client)}
    response = post_json(client, f"/api/posts/{post['id']}/comments", body)
    assert response.status_code == 201
    comment = response.json()
    assert comment["post"] == post["id"]
    assert comment["author"] == session["username"]
    assert client.get(f"/api/posts/{post['id']}").json()["comment_count"] == 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"blob": None}, 400, "missing_field"),
        ({"blob": "%%%"}, 400, "invalid_blob"),
        ({"blob": blob(size=20)}, 400, "invalid_blob"),
        ({"blob": "A" * (settings.MAX_COMMENT_BLOB_BYTES + 4)}, 413, "blob_too_large"),
        ({"author_pubkey": 5}, 400, "invalid_pubkey"),
    ],
)
def test_it_rejects_bad_comments_and_changes_nothing(client, change, status, code):
    post = make_post()
    fields = pow_fields(client)
    before = state()
    body = {"blob": blob(), **fields, **change}
    response = post_json(client, f"/api/posts/{post['id']}/comments", body)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert state() == before


def test_it_answers_404_when_commenting_on_a_missing_post(client):
    fields = pow_fields(client)
    for post_id in ["0" * 16, "bad"]:
        body = {"blob": blob(), **fields}
        response = post_json(client, f"/api/posts/{post_id}/comments", body)
        assert response.status_code == 404
        assert client.get(f"/api/posts/{post_id}/comments").status_code == 404
    assert keys_matching("nb:comment:*") == []


# --- trending and rooms -----------------------------------------------------------


def test_it_lists_trending_topics(client):
    make_post(topic="news")
    make_post(topic="news")
    make_post(topic="sport")
    make_post(room=services.room_create()["room"])
    response = client.get("/api/topics/trending")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["topic"] for item in items] == ["news", "sport"]
    assert items[0]["score"] > items[1]["score"] > 0


def test_it_creates_a_room_for_proof_of_work(client):
    response = post_json(client, "/api/rooms", pow_fields(client))
    assert response.status_code == 201
    data = response.json()
    assert data["url"] == f"/r/{data['room']}"
    assert len(data["room"]) >= 22  # 128 bits
    ttl = redis_utils.client().ttl(keys.room_key(data["room"]))
    assert settings.ROOM_TTL_SECONDS - 2 <= ttl <= settings.ROOM_TTL_SECONDS


def test_it_refuses_a_room_without_work(client):
    start_session(client)
    response = post_json(client, "/api/rooms", {})
    assert response.status_code == 400
    assert keys_matching("nb:room:*") == []


def test_room_ids_are_unguessable(client):
    rooms = {services.room_create()["room"] for _ in range(20)}
    assert len(rooms) == 20


def test_a_room_post_refreshes_the_room(client):
    room = services.room_create()["room"]
    redis_utils.client().expire(keys.room_key(room), 30)
    assert create_post(client, topic=None, room=room).status_code == 201
    assert redis_utils.client().ttl(keys.room_key(room)) > 30


def test_writes_are_rate_limited(client, settings):
    works = [pow_fields(client) for _ in range(3)]
    settings.RATE_LIMIT_MAX_REQUESTS = 2
    statuses = [
        post_json(client, "/api/posts", {"topic": "news", "blob": blob(), **w}).status_code
        for w in works
    ]
    assert statuses == [201, 201, 429]
    assert len(keys_matching("nb:post:*")) == 2


def _count_commands(monkeypatch) -> list[str]:
    """Every command sent from now on, by the sync or an asyncio client (a single
    server's or a cluster's)."""
    import redis.asyncio
    import redis.asyncio.cluster

    conn = redis_utils.client()
    calls: list[str] = []
    original = conn.execute_command

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(conn, "execute_command", counting)
    for cls in (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster):
        original_async = cls.execute_command

        async def counting_async(self, *args, _original=original_async, **kwargs):
            calls.append(args[0])
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "execute_command", counting_async)
    return calls


def test_a_feed_request_costs_one_redis_command(client, monkeypatch):
    for _ in range(25):
        make_post(topic="news")
    client.get("/api/posts", {"topic": "news"})  # the script is loaded once per server
    calls = _count_commands(monkeypatch)
    response = client.get("/api/posts", {"topic": "news"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 20
    assert calls == ["EVALSHA"]


def test_a_home_page_costs_one_command_or_one_per_topic_on_a_cluster(client, monkeypatch):
    topics = ["news", "science", "music"]
    for index in range(25):
        make_post(topic=topics[index % 3])
    client.get("/api/posts")  # the scripts are loaded once per server
    calls = _count_commands(monkeypatch)
    response = client.get("/api/posts")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 20
    # A cluster: the page's ids, then one call per topic's slot, all at once.
    assert len(calls) == (1 + len(topics) if cluster.enabled() else 1)
    assert set(calls) == {"EVALSHA"}


ODD_VALUES = [None, 0, -1, 1.5, True, [], ["news"], {}, {"a": 1}, "", " ", "\x00", "é" * 40]


def solves(fields: dict, nonce: str) -> bool:
    return leading_zeros(fields["pow_challenge"], nonce) >= settings.POW_DIFFICULTY


@pytest.mark.parametrize("name", ["topic", "room", "blob", "author_pubkey", "pow_nonce"])
def test_odd_values_in_any_field_give_json_4xx_never_a_traceback(client, name):
    fields = pow_fields(client)
    before = state()
    for value in ODD_VALUES:
        if name == "author_pubkey" and value in (None, ""):
            continue  # optional
        if name == "pow_nonce" and isinstance(value, str) and solves(fields, value):
            continue  # at difficulty 1, one string in 16 is a valid nonce
        body = {"topic": "news", "blob": blob(), **fields, name: value}
        if name == "room":
            body.pop("topic")
        response = post_json(client, "/api/posts", body)
        assert 400 <= response.status_code < 500, (name, value, response.content)
        assert set(response.json()) == {"error", "detail"}
    assert state() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/posts?topic=%00",
        "/api/posts?room=%F0%9F%92%A9" + "A" * 20,
        "/api/posts?cursor=-1",
        "/api/posts/%00",
        "/api/posts/" + "a" * 5000,
        "/api/posts/0123456789abcdef/comments?x=1",
    ],
)
def test_odd_reads_give_json_4xx(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
