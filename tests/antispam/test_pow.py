"""Proof of work: session-bound, single-use, expiring, atomic."""

import json

import pytest
import time_machine
from django.http import JsonResponse
from django.test import Client
from django.urls import include, path

from antispam.pow import CHALLENGE, challenge_consume, challenge_issue, leading_zeros, pow_write
from nullboard import redis_utils
from nullboard.api import api
from nullboard.errors import Error
from tests.conftest import start_session
from tests.pow import solve


@api(methods=["POST"])
@pow_write()
def guarded(request, body):
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("guarded", guarded), path("", include("nullboard.urls"))]
pytestmark = pytest.mark.urls(__name__)
handler404 = "nullboard.views.page_not_found"
handler500 = "nullboard.views.server_error"


def post(client, **fields):
    return client.post("/guarded", json.dumps(fields), content_type="application/json")


def solved(session):
    return {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }


def test_a_valid_solution_is_accepted(client, settings):
    session = start_session(client)
    assert post(client, **solved(session)).status_code == 201


def test_a_wrong_nonce_is_refused_and_the_challenge_stays_usable(client, settings):
    settings.POW_DIFFICULTY = 3
    session = start_session(client)
    good = solved(session)
    bad = next(str(n) for n in range(10**6) if leading_zeros(session["pow_challenge"], str(n)) < 3)
    response = post(client, pow_challenge=session["pow_challenge"], pow_nonce=bad)
    assert response.status_code == 403
    assert response.json()["error"] == "pow_insufficient"
    assert post(client, **good).status_code == 201


def test_a_replayed_solution_is_refused(client):
    fields = solved(start_session(client))
    assert post(client, **fields).status_code == 201
    response = post(client, **fields)
    assert response.status_code == 403
    assert response.json()["error"] == "pow_expired"


def test_another_sessions_challenge_is_refused(client):
    theirs = solved(start_session(Client()))
    start_session(client)
    response = post(client, **theirs)
    assert response.status_code == 403
    assert response.json()["error"] == "pow_wrong_session"


def test_an_expired_challenge_is_refused(client, settings):
    with time_machine.travel(0, tick=False) as traveller:
        fields = solved(start_session(client))
        key = CHALLENGE(challenge=fields["pow_challenge"])
        assert redis_utils.client().ttl(key) == settings.POW_TTL_SECONDS
        # Redis expires by its own clock; stand in for the wait by expiring the key.
        traveller.shift(settings.POW_TTL_SECONDS + 1)
        redis_utils.client().pexpire(key, 1)
    while redis_utils.client().exists(key):
        pass  # Redis expires it within its next millisecond
    response = post(client, **fields)
    assert response.status_code == 403
    assert response.json()["error"] == "pow_expired"


def test_missing_fields_are_a_400_and_no_session_a_403(client):
    start_session(client)
    assert post(client).status_code == 400
    anonymous = Client()
    response = post(anonymous, pow_challenge="0" * 32, pow_nonce="1")
    assert response.status_code == 403
    assert response.json()["error"] == "no_session"


def test_garbage_challenges_never_reach_redis():
    with pytest.raises(Error) as caught:
        challenge_consume(sid="x", challenge="nb:../../*", nonce="1")
    assert caught.value.status == 403


def test_consumption_is_single_use_under_a_race(real_redis):
    from concurrent.futures import ThreadPoolExecutor

    challenge = challenge_issue(sid="racer")
    nonce = solve(challenge.challenge, challenge.difficulty)

    def attempt(_):
        try:
            challenge_consume(sid="racer", challenge=challenge.challenge, nonce=nonce)
            return True
        except Error:
            return False

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(attempt, range(32)))
    assert results.count(True) == 1


def test_leading_zeros_counts_hex_zeros():
    assert leading_zeros("abc", solve("abc", 2)) >= 2
