"""Trending: a time-decayed score per topic, computed in Redis."""

from __future__ import annotations

import pytest
from django.conf import settings

from boards import selectors, services

from .helpers import make_comment, make_post

T0 = 1_900_000_000


def scores() -> dict[str, float]:
    return {item["topic"]: item["score"] for item in selectors.trending_list()}


def test_a_post_weighs_more_than_a_comment(time_machine):
    time_machine.move_to(T0, tick=False)
    sport = make_post(topic="sport")
    make_comment(sport["id"])
    make_post(topic="science")
    found = scores()
    assert found["science"] == pytest.approx(services.POST_WEIGHT)
    assert found["sport"] == pytest.approx(services.POST_WEIGHT + services.COMMENT_WEIGHT)
    assert services.POST_WEIGHT > services.COMMENT_WEIGHT


def test_scores_halve_every_half_life(time_machine):
    half = settings.TRENDING_HALF_LIFE_SECONDS
    time_machine.move_to(T0, tick=False)
    make_post(topic="news")
    assert scores()["news"] == pytest.approx(3)
    time_machine.move_to(T0 + half, tick=False)
    assert scores()["news"] == pytest.approx(1.5)
    time_machine.move_to(T0 + 2 * half, tick=False)
    assert scores()["news"] == pytest.approx(0.75)


def test_recent_activity_outranks_older_activity(time_machine):
    half = settings.TRENDING_HALF_LIFE_SECONDS
    time_machine.move_to(T0, tick=False)
    for _ in range(3):
        make_post(topic="news")  # 9 points, then decaying
    time_machine.move_to(T0 + 2 * half, tick=False)  # news is worth 2.25 now
    for _ in range(1):
        make_post(topic="sport")  # 3 points, fresh
    assert [item["topic"] for item in selectors.trending_list()] == ["sport", "news"]
    assert scores()["news"] == pytest.approx(2.25)


def test_it_survives_an_epoch_move(time_machine):
    half = settings.TRENDING_HALF_LIFE_SECONDS
    time_machine.move_to(T0, tick=False)
    make_post(topic="news")
    time_machine.move_to(T0 + 70 * half, tick=False)  # past the 64 half-life era
    make_post(topic="sport")
    found = scores()
    assert found["sport"] == pytest.approx(3)
    assert found.get("news", 0) < 1e-6


def test_it_never_lists_rooms():
    room = services.room_create()["room"]
    make_post(room=room)
    assert selectors.trending_list() == []


def test_it_ranks_hottest_first_and_limits_the_list():
    for n, topic in enumerate(["a1", "b2", "c3"]):
        for _ in range(n + 1):
            make_post(topic=topic)
    assert [item["topic"] for item in selectors.trending_list()] == ["c3", "b2", "a1"]
    assert len(selectors.trending_list(limit=2)) == 2
