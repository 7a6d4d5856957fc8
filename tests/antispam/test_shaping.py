"""Response padding and random write delays."""

import json
import time

from antispam.middleware import PAD_BUCKET_BYTES, delay_seconds


def test_api_json_is_padded_to_a_whole_bucket(client, settings):
    settings.PAD_RESPONSES = True
    response = client.post("/api/session")
    assert len(response.content) % PAD_BUCKET_BYTES == 0
    assert json.loads(response.content)["username"]  # still valid JSON
    assert int(response["Content-Length"]) == len(response.content)


def test_errors_are_padded_too(client, settings):
    settings.PAD_RESPONSES = True
    assert len(client.get("/api/nothing").content) == PAD_BUCKET_BYTES


def test_padding_can_be_turned_off(client, settings):
    settings.PAD_RESPONSES = False
    assert len(client.post("/api/session").content) < PAD_BUCKET_BYTES


def test_pages_are_not_padded(client, settings):
    settings.PAD_RESPONSES = True
    assert client.get("/").get("Content-Type").startswith("text/html")


def test_delays_stay_within_the_maximum(settings):
    settings.RANDOM_DELAY_MAX_MS = 40
    samples = [delay_seconds() for _ in range(500)]
    assert 0 <= min(samples) and max(samples) <= 0.040
    assert len(set(samples)) > 10  # random, not fixed


def test_writes_are_delayed_and_reads_are_not(client, settings):
    settings.ENABLE_RANDOM_DELAYS = True
    settings.RANDOM_DELAY_MAX_MS = 200
    started = time.perf_counter()
    for _ in range(10):
        client.post("/api/session")
    writes = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(10):
        client.get("/api/nothing")
    reads = time.perf_counter() - started
    assert writes > 0.2  # ten uniform 0-200 ms delays average a second
    assert reads < writes / 2


async def test_the_async_path_sleeps_without_blocking_the_loop(settings):
    import asyncio

    from django.http import JsonResponse
    from django.test import AsyncRequestFactory

    from antispam.middleware import TrafficShapingMiddleware

    settings.ENABLE_RANDOM_DELAYS = True
    settings.RANDOM_DELAY_MAX_MS = 100

    async def view(request):
        return JsonResponse({"ok": True})

    middleware = TrafficShapingMiddleware(view)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    for _ in range(5):
        await middleware(AsyncRequestFactory().post("/api/x"))
    elapsed = time.perf_counter() - started
    task.cancel()
    # The loop kept running while the writes slept.
    assert ticks >= int(elapsed / 0.005) // 2
