"""Response padding and random write delays."""

import json
import time

import antispam.middleware
from antispam.middleware import PAD_BUCKET_BYTES, delay_seconds


class PinnedSleep:
    """The middleware's sleeps, added up instead of slept: delays are measured on a
    pinned clock, so a busy machine cannot pass or fail them."""

    def __init__(self, monkeypatch) -> None:
        self.total = 0.0
        clock = self

        class Time:  # the middleware's time: the real one but for sleep
            def __getattr__(self, name):
                return clock.sleep if name == "sleep" else getattr(time, name)

        monkeypatch.setattr(antispam.middleware, "time", Time())

    def sleep(self, seconds: float) -> None:
        self.total += seconds


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


def test_writes_are_delayed_and_reads_are_not(client, settings, monkeypatch):
    settings.ENABLE_RANDOM_DELAYS = True
    settings.RANDOM_DELAY_MAX_MS = 200
    clock = PinnedSleep(monkeypatch)
    for _ in range(10):
        client.post("/api/session")
    writes = clock.total
    for _ in range(10):
        client.get("/api/nothing")
    reads = clock.total - writes
    assert writes > 0.2  # ten uniform 0-200 ms delays average a second
    assert reads < writes / 2


async def test_the_async_path_sleeps_without_blocking_the_loop(settings, monkeypatch):
    import asyncio

    from django.http import JsonResponse
    from django.test import AsyncRequestFactory

    from antispam.middleware import TrafficShapingMiddleware

    settings.ENABLE_RANDOM_DELAYS = True
    settings.RANDOM_DELAY_MAX_MS = 100

    async def view(request):
        return JsonResponse({"ok": True})

    middleware = TrafficShapingMiddleware(view)
    ticked = asyncio.Event()
    slept: list[float] = []

    async def ticker():
        while True:
            await asyncio.sleep(0)
            ticked.set()

    async def sleep(seconds: float) -> None:
        """The delay, ended by the other task running rather than by the clock."""
        ticked.clear()
        await asyncio.wait_for(ticked.wait(), timeout=10)
        slept.append(seconds)

    def blocking_sleep(seconds: float) -> None:
        raise AssertionError("the async path blocked the loop in time.sleep")

    PinnedSleep(monkeypatch).sleep = blocking_sleep

    class Asyncio:  # the middleware's asyncio: the real one but for sleep
        def __getattr__(self, name):
            return sleep if name == "sleep" else getattr(asyncio, name)

    monkeypatch.setattr(antispam.middleware, "asyncio", Asyncio())
    task = asyncio.create_task(ticker())
    for _ in range(5):
        await middleware(AsyncRequestFactory().post("/api/x"))
    task.cancel()
    # The loop kept running while the writes slept.
    assert len(slept) == 5 and max(slept) <= 0.1
