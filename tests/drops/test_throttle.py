"""Guessing is pointless, and throttling never punishes the innocent: wrong keys are
counted per (client, drop), per drop and per client across drops, atomically in the
open script; a right key (and right passphrase) always opens."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.test import Client, override_settings

from drops import services
from nullboard import redis_utils
from tests.drops.helpers import create_text, open_drop

WRONG = "0000-0000-0000-0000-0000-0000-0000"
LIMITS = services.WRONG_KEY_LIMITS


def _client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_wrong_keys_from_one_client_bring_429_with_a_wait(client):
    drop = create_text(client)
    for _ in range(LIMITS.pair):
        assert open_drop(client, drop["id"], WRONG).status_code == 403
    throttled = open_drop(client, drop["id"], WRONG)
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_wrong_keys"
    assert 0 < int(throttled["Retry-After"]) <= LIMITS.window
    assert "wait about" in throttled.json()["detail"]


def test_a_right_key_still_opens_after_the_client_is_throttled(client):
    drop = create_text(client)
    for _ in range(LIMITS.pair + 3):
        open_drop(client, drop["id"], WRONG)
    response = open_drop(client, drop["id"], drop["keys"][0])
    assert response.status_code == 200
    assert response.json()["text"]


def test_eight_wrong_keys_on_one_drop_do_not_lock_the_client_out_of_another(client):
    first, second = create_text(client), create_text(client)
    for _ in range(8):
        open_drop(client, first["id"], WRONG)
    # A mistake on the other drop is a plain 403 (the cross-drop cap is higher) ...
    assert open_drop(client, second["id"], WRONG).status_code == 403
    # ... and the right key opens it.
    assert open_drop(client, second["id"], second["keys"][0]).status_code == 200


def test_the_client_cap_spans_drops_but_is_higher(client):
    drops = [create_text(client) for _ in range(LIMITS.client // LIMITS.pair + 1)]
    statuses = []
    for drop in drops:
        statuses += [open_drop(client, drop["id"], WRONG).status_code for _ in range(LIMITS.pair)]
    assert statuses[: LIMITS.client] == [403] * LIMITS.client
    assert statuses[LIMITS.client] == 429


@override_settings(RATE_LIMIT_MAX_REQUESTS=1000)
def test_a_right_key_opens_a_drop_that_two_other_addresses_flooded(client):
    drop = create_text(client)
    for address in ("198.51.100.7", "203.0.113.9"):
        flooder = _client(address)
        statuses = [open_drop(flooder, drop["id"], WRONG).status_code for _ in range(20)]
        assert statuses[-1] == 429
        # The flooders' own right key still opens too: only wrong keys are slowed.
    response = open_drop(_client("192.0.2.44"), drop["id"], drop["keys"][1])
    assert response.status_code == 200
    assert open_drop(_client("198.51.100.7"), drop["id"], drop["keys"][2]).status_code == 200


def test_wrong_keys_from_many_clients_throttle_the_drop_but_not_its_keys(client):
    drop = create_text(client)
    for n in range(LIMITS.drop):
        with pytest.raises(services.WrongKey):
            services.drop_open_with_key(
                drop_id=drop["id"], key=WRONG, passphrase="", client=f"guesser-{n}"
            )
    assert open_drop(Client(), drop["id"], WRONG).status_code == 429
    assert open_drop(Client(), drop["id"], drop["keys"][0]).status_code == 200


def test_used_keys_do_not_count_as_guesses(client):
    drop = create_text(client)
    open_drop(client, drop["id"], drop["keys"][0])
    for _ in range(LIMITS.pair + 1):
        assert open_drop(client, drop["id"], drop["keys"][0]).status_code == 403
    assert open_drop(client, drop["id"], WRONG).status_code == 403
    assert open_drop(client, drop["id"], drop["keys"][1]).status_code == 200


def test_counting_is_atomic_across_threads(client, real_redis):
    drop = create_text(client)
    barrier = Barrier(30)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            services.drop_open_with_key(drop_id=drop["id"], key=WRONG, passphrase="", client="c")
        except services.Throttled:
            return "throttled"
        except services.WrongKey:
            return "wrong"
        return "ok"

    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(attempt, range(30)))
    assert results.count("wrong") == LIMITS.pair
    assert results.count("throttled") == 30 - LIMITS.pair


_GUESSER = """
import os, sys, django
django.setup()
from drops import services
n = 0
for _ in range(int(sys.argv[2])):
    try:
        services.drop_open_with_key(drop_id=sys.argv[1], key="0" * 28, passphrase="", client="x")
    except services.WrongKey:
        n += 1
    except services.Throttled:
        pass
print(n)
"""


@pytest.mark.skipif(redis_utils.is_embedded(), reason="two processes need a shared Redis")
def test_counting_is_atomic_across_two_processes(client, settings):
    drop = create_text(client)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nullboard.settings", "DEBUG": "true"}
    if settings.REDIS_URL:  # on a cluster, REDIS_CLUSTER_NODES is in the environment
        env["REDIS_URL"] = settings.REDIS_URL
    env["SECRET_KEY"] = settings.SECRET_KEY
    args = [sys.executable, "-c", _GUESSER, drop["id"], "6"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    counted = sum(int(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs)
    assert counted == LIMITS.pair
