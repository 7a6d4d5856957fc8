"""Many requests at once on one web process: slow answers are fine, 503s are not."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import DaphneServer
from tests.reliability.conftest import assert_no_server_error

pytestmark = pytest.mark.redis

CLIENTS = 200
ROUNDS = 10


# An async view (the feed) and a sync one, which Django runs a thread each.
PATHS = {"/api/posts?topic=news": 200, "/api/topics/trending": 200}


@pytest.mark.parametrize("path", PATHS)
def test_two_hundred_concurrent_readers_get_no_503(path):
    """Concurrent requests each hold a Redis connection; the connection pools
    must not run dry (an empty pool is a MaxConnectionsError, which answers 503)."""
    import http.client

    web = DaphneServer().start()
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def reader() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
        for _ in range(ROUNDS):
            barrier.wait()
            conn.request("GET", path)
            status = conn.getresponse()
            status.read()
            with lock:
                statuses[status.status] = statuses.get(status.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=reader) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        printed = web.stop()
    causes = {line for line in printed.splitlines() if "unreachable" in line}
    assert statuses == {PATHS[path]: CLIENTS * ROUNDS}, (statuses, causes)
    assert_no_server_error(printed)
