"""Exactly N views under a crowd: 50 parallel opens of a 3-view drop."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from django.test import override_settings

from drops import keys as drop_keys
from drops import services
from tests.drops.helpers import create_text, crowd_open


def test_fifty_parallel_opens_give_exactly_three_successes(client, real_redis):
    drop = create_text(client)
    results = crowd_open(
        lambda n: services.drop_open_with_key(
            drop_id=drop["id"], key=drop["keys"][n % 3], passphrase="", client=f"c{n}"
        )
    )
    assert results.count("ok") == 3
    assert set(results) <= {"ok", "used", "gone"}
    assert real_redis.exists(drop_keys.DROP(id=drop["id"])) == 0


@override_settings(RATE_LIMIT_MAX_REQUESTS=1000)  # one test client address for all 50
def test_fifty_parallel_opens_over_http_give_exactly_three_successes(client, real_redis):
    from django.test import Client

    drop = create_text(client)
    barrier = Barrier(50)

    def attempt(n: int) -> int:
        barrier.wait()
        url = f"/api/drops/{drop['id']}/open"
        key = {"key": drop["keys"][n % 3]}
        return Client().post(url, key, content_type="application/json").status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(200) == 3
    assert set(statuses) <= {200, 403, 410}
