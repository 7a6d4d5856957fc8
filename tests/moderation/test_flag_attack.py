"""The flag attack of the outside run, replayed against a real daphne and Redis:
sessions and /64s are free, so they must not add up to a hidden post."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DaphneServer, HttpClient
from tests.reliability.conftest import blob, solved

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def web():
    server = DaphneServer(
        env={"TRUSTED_PROXY_COUNT": "1", "RATE_LIMIT_MAX_REQUESTS": "100000"}
    ).start()
    yield server
    server.stop()


def client_from(web, address: str) -> HttpClient:
    """A fresh visitor (own cookies, own session) whose proxy says it is ``address``."""
    client = HttpClient(web.url)
    client.opener.addheaders = [("X-Forwarded-For", address)]
    assert client.get("/")[0] == 200
    return client


def flag(client: HttpClient, post_id: str) -> tuple[int, dict]:
    body = {"type": "post", "id": post_id, "reason": "spam", **solved(client)}
    status, _, answer = client.post("/api/flags", body)
    return status, json.loads(answer)


def new_post(web) -> str:
    author = client_from(web, "192.0.2.1")
    status, _, body = author.post("/api/posts", {"topic": "news", "blob": blob(), **solved(author)})
    assert status == 201, body
    return json.loads(body)["id"]


def visible(web, post_id: str) -> bool:
    status, _, body = HttpClient(web.url).get("/api/posts?topic=news")
    assert status == 200
    return post_id in {item["id"] for item in json.loads(body)["items"]}


def test_sessions_and_slash_64s_of_one_network_never_hide_a_post(web):
    post_id = new_post(web)
    attackers = [f"2001:db8:66:{n:x}::1" for n in range(12)]  # twelve /64s, one /48
    attackers += [f"198.51.100.{n}" for n in range(20, 32)]  # twelve addresses, one /24
    answers = [flag(client_from(web, address), post_id) for address in attackers]
    assert {status for status, _ in answers} == {202}
    assert not any(answer["hidden"] for _, answer in answers)
    assert visible(web, post_id)


def test_three_networks_each_paying_a_proof_of_work_hide_it(web):
    post_id = new_post(web)
    networks = ["198.51.100.9", "203.0.113.9", "2001:db8:67::1"]
    answers = [flag(client_from(web, address), post_id) for address in networks]
    assert [a["hidden"] for _, a in answers] == [False, False, True]
    assert not visible(web, post_id)
    # without a solved challenge a flag is refused outright
    client = client_from(web, "192.0.2.200")
    assert client.post("/api/session")[0] == 200  # a session, but no solved challenge
    status, _, body = client.post("/api/flags", {"type": "post", "id": post_id, "reason": "spam"})
    assert status == 400, body
