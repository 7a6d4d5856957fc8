"""Guessing is pointless: wrong keys are throttled per client and per drop."""

from __future__ import annotations

from django.test import Client

from drops import services
from tests.drops.helpers import create_text, open_drop

WRONG = "0000-0000-0000-0000-0000-0000-0000"


def test_a_few_wrong_keys_from_one_client_bring_429(client):
    drop = create_text(client)
    for _ in range(services.WRONG_KEYS_PER_CLIENT):
        assert open_drop(client, drop["id"], WRONG).status_code == 403
    throttled = open_drop(client, drop["id"], drop["keys"][0])
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_wrong_keys"
    assert int(throttled["Retry-After"]) > 0


def test_the_client_throttle_spans_drops(client):
    first, second = create_text(client), create_text(client)
    for _ in range(services.WRONG_KEYS_PER_CLIENT):
        open_drop(client, first["id"], WRONG)
    assert open_drop(client, second["id"], WRONG).status_code == 429


def test_wrong_keys_from_many_clients_throttle_the_drop(client):
    drop = create_text(client)
    for n in range(services.WRONG_KEYS_PER_DROP):
        try:
            services.drop_open(drop_id=drop["id"], key=WRONG, client=f"guesser-{n}")
        except services.WrongKey:
            pass
    assert open_drop(Client(), drop["id"], WRONG).status_code == 429


def test_used_keys_do_not_count_as_guesses(client):
    drop = create_text(client)
    open_drop(client, drop["id"], drop["keys"][0])
    for _ in range(services.WRONG_KEYS_PER_CLIENT + 1):
        assert open_drop(client, drop["id"], drop["keys"][0]).status_code == 403
    assert open_drop(client, drop["id"], drop["keys"][1]).status_code == 200
