"""A five-second soak in the normal suite (the 60-second one is tests/perf/soak.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.redis


def test_a_short_soak_has_no_5xx_no_lost_write_and_no_lost_event(real_redis):
    from tests.perf.soak import soak

    figures = soak(seconds=5, clients=50, quiet=True)
    assert figures["problems"] == []
    assert figures["posts"] > 10 and figures["comments"] > 0
    assert figures["events_expected"] > 0 and figures["events_lost"] == 0
    counts = figures["stats"].statuses
    assert sum(c for name in counts for s, c in counts[name].items() if s >= 500) == 0
    assert counts["drop open"].get(200, 0) >= 3
