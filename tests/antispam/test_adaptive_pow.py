"""Adaptive proof of work: difficulty rises with the site-wide write rate, then falls."""

import pytest
import time_machine

from antispam.pow import challenge_consume, challenge_issue, difficulty_for_rate, write_rate
from nullboard import redis_utils
from tests.pow import solve


@pytest.fixture
def levels(settings):
    settings.POW_DIFFICULTY = 1
    settings.POW_ADAPTIVE_THRESHOLDS = [3, 6]
    settings.POW_MAX_DIFFICULTY = 2
    settings.POW_RATE_WINDOW_SECONDS = 60
    return settings


def write(sid: str = "writer") -> None:
    challenge = challenge_issue(sid=sid)
    challenge_consume(
        sid=sid,
        challenge=challenge.challenge,
        nonce=solve(challenge.challenge, challenge.difficulty),
    )


def test_the_levels_step_up_at_each_threshold_and_stop_at_the_cap(levels):
    assert [difficulty_for_rate(r) for r in (0, 2, 3, 5, 6, 10_000)] == [1, 1, 2, 2, 2, 2]


def test_accepted_writes_raise_the_difficulty(levels):
    with time_machine.travel(1_000_000, tick=False):
        assert challenge_issue(sid="a").difficulty == 1
        for _ in range(3):
            write()
        assert write_rate() == 3
        assert challenge_issue(sid="a").difficulty == 2


def test_it_falls_back_when_the_window_has_passed(levels):
    with time_machine.travel(1_000_000, tick=False) as clock:
        for _ in range(3):
            write()
        assert challenge_issue(sid="a").difficulty == 2
        clock.shift(61)
        assert write_rate() == 0
        assert challenge_issue(sid="a").difficulty == 1


def test_the_session_endpoint_reports_the_current_difficulty(client, levels):
    with time_machine.travel(1_000_000, tick=False):
        for _ in range(3):
            write()
        assert client.post("/api/session").json()["pow_difficulty"] == 2


def test_rate_buckets_expire(levels):
    write()
    for name in redis_utils.client().keys("nb:pow:rate:*"):
        assert 0 < redis_utils.client().ttl(name) <= 70
