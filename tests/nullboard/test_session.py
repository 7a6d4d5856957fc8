"""POST /api/session: the anonymous identity and its challenge."""

import re

from django.conf import settings

from nullboard import redis_utils
from nullboard.identity import username_generate
from nullboard.words import ADJECTIVES, NOUNS

NAME = re.compile(r"^[a-z]+-[a-z]+-\d{4}$")


def test_it_returns_the_contract_fields(client):
    response = client.post("/api/session")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"sid", "username", "pow_challenge", "pow_difficulty", "ttl_seconds"}
    assert NAME.match(data["username"])
    assert data["ttl_seconds"] == settings.SESSION_TTL_SECONDS
    assert data["pow_difficulty"] == settings.POW_DIFFICULTY
    assert len(data["pow_challenge"]) == 32


def test_it_keeps_the_name_and_refreshes_the_challenge(client):
    first = client.post("/api/session").json()
    second = client.post("/api/session").json()
    assert first["username"] == second["username"]
    assert first["sid"] == second["sid"]
    assert first["pow_challenge"] != second["pow_challenge"]


def test_each_visitor_gets_another_name():
    from django.test import Client

    names = {Client().post("/api/session").json()["sid"] for _ in range(5)}
    assert len(names) == 5


def test_the_session_lives_in_redis_with_its_ttl(client):
    client.post("/api/session")
    keys = [k.decode() for k in redis_utils.client().keys("nb:*session*")]
    assert len(keys) == 1
    ttl = redis_utils.client().ttl(keys[0])
    assert settings.SESSION_TTL_SECONDS - 5 <= ttl <= settings.SESSION_TTL_SECONDS


def test_it_sets_an_httponly_session_cookie(client):
    response = client.post("/api/session")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_it_rejects_get_with_json_405(client):
    response = client.get("/api/session")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_every_key_carries_a_ttl(client):
    client.post("/api/session")
    conn = redis_utils.client()
    keys = conn.keys("*")
    assert keys
    for name in keys:
        assert name.startswith(b"nb:")
        assert conn.ttl(name) > 0


def test_names_come_from_lists_big_enough_for_millions():
    assert len(ADJECTIVES) * len(NOUNS) * 9000 > 10_000_000
    assert all(NAME.match(username_generate()) for _ in range(50))


def _commands() -> dict[str, int]:
    stats = redis_utils.client().info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def test_a_refresh_reads_and_writes_the_session_once(client):
    if redis_utils.is_embedded():
        import pytest

        pytest.skip("counts commands with a real Redis's INFO commandstats")
    client.post("/api/session")
    before = _commands()
    assert client.post("/api/session").status_code == 200
    after = _commands()
    spent = {name: after[name] - before.get(name, 0) for name in after}
    assert spent.get("get") == 1  # the session, loaded once (Django's save read it again)
    # The rate limit's SET NX, then one SET for the session and one for the challenge:
    # the middleware does not save the session the view saved.
    assert spent.get("set") == 3
    assert spent.get("mget") == 1  # the site's write rate, for the difficulty
