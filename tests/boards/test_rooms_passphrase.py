"""Passphrase rooms on the server: only public derivation parameters are kept,
checked strictly, and handed to the room's pages."""

from __future__ import annotations

import base64
import html
import json
import os

import pytest
from django.conf import settings
from django.utils import translation

from boards import keys, selectors, services
from boards.room_kdf import KDF_ITERATIONS, KDF_MAX_ITERATIONS
from nullboard import errors, redis_utils
from tests.conftest import pow_fields, start_session

from .helpers import blob, keys_matching, make_post


def kdf(**overrides) -> dict:
    salt = base64.b64encode(os.urandom(16)).decode()
    return {
        "v": 1,
        "alg": "PBKDF2-SHA256",
        "iterations": 600000,
        "salt": salt,
        "link": False,
        **overrides,
    }


def create(client, **body):
    return client.post(
        "/api/rooms", {**body, **pow_fields(client)}, content_type="application/json"
    )


def test_it_keeps_the_salt_and_iterations_with_the_room(client):
    params = kdf()
    response = create(client, key_check=blob(60), kdf=params)
    assert response.status_code == 201
    room = response.json()["room"]
    found = selectors.room_get(room=room)
    assert found is not None and found["kdf"] == params
    ttl = redis_utils.client().ttl(keys.room_key(room))
    assert settings.ROOM_TTL_SECONDS - 2 <= ttl <= settings.ROOM_TTL_SECONDS


def test_the_room_page_carries_the_parameters_and_says_it_needs_a_passphrase(client):
    params = kdf(link=True)
    room = create(client, key_check=blob(60), kdf=params).json()["room"]
    page = client.get(f"/r/{room}").content.decode()
    start = page.index('data-kdf="') + len('data-kdf="')
    assert json.loads(html.unescape(page[start : page.index('"', start)])) == params
    assert "data-passphrase-form" in page


def test_a_link_room_page_has_no_parameters(client):
    room = create(client, key_check=blob(60)).json()["room"]
    page = client.get(f"/r/{room}").content.decode()
    assert 'data-kdf=""' in page and "data-passphrase-form" not in page


def test_a_post_page_in_a_passphrase_room_carries_the_parameters(client):
    params = kdf()
    room = services.room_create(key_check=blob(60), kdf=params)["room"]
    post = make_post(room=room)
    page = client.get(f"/post/{post['id']}").content.decode()
    assert params["salt"] in page


def test_a_room_post_keeps_the_parameters_alive(client):
    params = kdf()
    room = services.room_create(key_check=blob(60), kdf=params)["room"]
    redis_utils.client().expire(keys.room_key(room), 30)
    make_post(room=room)
    assert redis_utils.client().ttl(keys.room_key(room)) > 30
    assert selectors.room_get(room=room)["kdf"] == params  # type: ignore[index]


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        [],
        {**kdf(), "extra": 1},
        {k: v for k, v in kdf().items() if k != "salt"},
        kdf(v=2),
        kdf(alg="PBKDF2-SHA1"),
        kdf(iterations=1000),
        kdf(iterations=600000.5),
        kdf(iterations=True),
        kdf(iterations=10**9),
        kdf(salt="c2hvcnQ="),  # 5 bytes
        kdf(salt="not base64!"),
        kdf(salt=base64.b64encode(os.urandom(17)).decode()),
        kdf(salt=16),
        kdf(link="yes"),
    ],
)
def test_it_refuses_bad_parameters_and_keeps_the_work(client, bad):
    fields = pow_fields(client)
    response = client.post(
        "/api/rooms", {"key_check": blob(60), "kdf": bad, **fields}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_kdf"
    assert keys_matching("nb:room:*") == []
    # The challenge was not spent: the same work still opens a plain room.
    again = client.post("/api/rooms", fields, content_type="application/json")
    assert again.status_code == 201


def test_a_passphrase_room_needs_a_key_check(client):
    start_session(client)
    response = create(client, kdf=kdf())
    assert response.status_code == 400
    assert response.json()["error"] == "missing_field"
    assert keys_matching("nb:room:*") == []


def test_the_store_never_holds_more_than_the_public_parameters(client):
    params = kdf()
    check = blob(60)
    room = create(client, key_check=check, kdf=params).json()["room"]
    value = json.loads(redis_utils.client().get(keys.room_key(room)))
    assert value == {"check": check, "kdf": params}


def test_a_whole_float_iteration_count_is_stored_as_an_integer(client):
    room = create(client, key_check=blob(60), kdf=kdf(iterations=700000.0)).json()["room"]
    stored = selectors.room_get(room=room)["kdf"]  # type: ignore[index]
    assert stored["iterations"] == 700000 and type(stored["iterations"]) is int


@pytest.mark.parametrize("language", ["es", "ru", "zh-hans"])
def test_the_iterations_bounds_are_said_in_the_readers_language(client, language):
    fields = pow_fields(client)
    response = client.post(
        "/api/rooms",
        {"key_check": blob(60), "kdf": kdf(iterations=1000), **fields},
        content_type="application/json",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    with translation.override(language):
        expected = errors.OUT_OF_BOUNDS % {
            "name": "kdf.iterations",
            "low": KDF_ITERATIONS,
            "high": KDF_MAX_ITERATIONS,
        }
    assert detail == str(expected)
    assert " to " not in detail and "between" not in detail  # no English left in it
