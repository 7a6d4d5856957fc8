"""The soak in the normal suite.

Under CI it is the issue's whole soak: 200 clients for 60 s. Elsewhere it is a
five-second one with 50 clients, so `make test` stays quick; SOAK_SECONDS and
SOAK_CLIENTS choose. tests/perf/soak.py runs it by hand and prints the table.
"""

from __future__ import annotations

import pytest

from nullboard.env import envint
from tests.conftest import IN_CI

pytestmark = pytest.mark.redis

SECONDS = envint("SOAK_SECONDS", 60 if IN_CI else 5, minimum=1)
CLIENTS = envint("SOAK_CLIENTS", 200 if IN_CI else 50, minimum=20)


def test_a_soak_has_no_5xx_no_lost_write_no_lost_event_and_flat_memory(real_redis):
    from tests.perf.soak import soak

    figures = soak(seconds=SECONDS, clients=CLIENTS, quiet=True)
    assert figures["problems"] == []
    assert figures["posts"] > 2 * SECONDS and figures["comments"] > 0
    assert figures["events_expected"] > 0 and figures["events_lost"] == 0
    counts = figures["stats"].statuses
    assert sum(c for name in counts for s, c in counts[name].items() if s >= 500) == 0
    assert counts["drop open"].get(200, 0) >= 3
    growth = figures["rss_end_kib"] - figures["rss_start_kib"]
    assert growth < 64 * 1024, f"the web process grew by {growth} KiB"
