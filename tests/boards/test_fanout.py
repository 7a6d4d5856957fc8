"""The process's hub: one layer subscription per group, frames serialised once."""

from __future__ import annotations

import asyncio
import threading
import time

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer

from boards import events, fanout

from .helpers import make_post
from .test_consumer import connect, send


async def until(socket, event: str) -> dict:
    """The next frame named ``event``, skipping others (trending updates)."""
    while True:
        frame = await socket.receive_json_from()
        if frame["event"] == event:
            return frame


def members(group: str) -> int:
    return len(fanout.hub().members.get(group, ()))


async def test_sockets_of_one_group_share_one_hub_membership():
    first, second = await connect(), await connect()
    for socket in (first, second):
        await send(socket, "topic:join", {"topic": "news"})
    assert members(events.topic_group("news")) == 2
    post = await sync_to_async(make_post)(topic="news")
    for socket in (first, second):
        assert await until(socket, "post:new") == {"event": "post:new", "payload": post}
    await second.send_json_to({"event": "topic:leave", "payload": {"topic": "news"}})
    await until(second, "topic:left")
    assert members(events.topic_group("news")) == 1
    later = await sync_to_async(make_post)(topic="news")
    assert (await until(first, "post:new"))["payload"] == later
    while not await second.receive_nothing():
        assert (await second.receive_json_from())["event"] != "post:new"
    await first.disconnect()
    await second.disconnect()
    assert members(events.topic_group("news")) == 0
    assert members(events.TRENDING_GROUP) == 0


async def test_a_published_event_carries_its_frame_serialised_once(monkeypatch):
    sent: list[events.Published] = []

    async def record(batch):
        sent.extend(batch)

    monkeypatch.setattr(events, "send_batch", record)
    await sync_to_async(make_post)(topic="news")
    for _ in range(20):
        if sent:
            break
        await asyncio.sleep(0.01)
    assert sent[0].event == "post:new"
    assert sent[0].text.startswith('{"event":"post:new","payload":{')


def record_sends(monkeypatch) -> list[tuple[str, float]]:
    """Where and when each batch is sent: (thread name, monotonic time)."""
    sends: list[tuple[str, float]] = []
    real = events.send_batch

    async def record(batch):
        sends.append((threading.current_thread().name, time.monotonic()))
        await real(batch)

    monkeypatch.setattr(events, "send_batch", record)
    return sends


async def test_a_busy_serving_loop_does_not_hold_up_live_events(monkeypatch):
    sends = record_sends(monkeypatch)
    await sync_to_async(events.publish)([events.HOME_GROUP], "post:new", {"id": "x"})
    blocked_until = time.monotonic() + 0.5
    time.sleep(0.5)  # the serving loop is busy: nothing on it runs meanwhile
    assert sends, "the event waited for the serving loop"
    (thread, sent_at) = sends[0]
    assert thread == "live-events" and sent_at < blocked_until


async def test_the_in_memory_layer_is_sent_to_from_its_own_loop(monkeypatch):
    sends = record_sends(monkeypatch)
    monkeypatch.setattr(events, "get_channel_layer", InMemoryChannelLayer)
    await sync_to_async(events.publish)([events.HOME_GROUP], "post:new", {"id": "x"})
    await asyncio.sleep(0.05)
    assert [thread for thread, _ in sends] == [threading.current_thread().name]


class RecordingLayer:
    """A layer that takes ``delay`` per group_send and remembers what it was sent."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.sent = delay, []

    async def group_send(self, group: str, message: dict) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append((group, message))


async def test_a_batch_sends_one_message_per_group_with_its_frames_in_order():
    layer = RecordingLayer()
    await events.send_batch(
        [
            events.Published(layer, ("topic.news", "feed.home"), "post:new", "a"),
            events.Published(layer, ("feed.trending",), "topics:trending", "b"),
            events.Published(layer, ("topic.news", "feed.home"), "comment:new", "c"),
        ]
    )
    assert sorted((group, message["texts"]) for group, message in layer.sent) == [
        ("feed.home", ["a", "c"]),
        ("feed.trending", ["b"]),
        ("topic.news", ["a", "c"]),
    ]
    assert {message["type"] for _, message in layer.sent} == {events.MESSAGE_TYPE}
    assert all(message["group"] == group for group, message in layer.sent)


async def test_a_backlog_goes_out_in_few_messages_in_publish_order():
    """While one send is in flight, later events queue and leave together: a busy
    process makes a round trip per group per batch, not per event."""
    layer = RecordingLayer(delay=0.05)
    loop = asyncio.get_running_loop()

    def publish(numbers) -> None:
        for n in numbers:
            events._enqueue(loop, events.Published(layer, ("topic.news",), "post:new", str(n)))

    async def frames(count: int) -> list[str]:
        while sum(len(message["texts"]) for _, message in layer.sent) < count:
            await asyncio.sleep(0.01)
        return [text for _, message in layer.sent for text in message["texts"]]

    publish([0])
    await asyncio.sleep(0.01)  # the first event's send is now in flight
    publish(range(1, 40))
    assert await frames(40) == [str(n) for n in range(40)]
    assert [len(message["texts"]) for _, message in layer.sent] == [1, 39]
    layer.sent.clear()
    publish(range(150))  # a batch is capped, so one message stays a modest size
    assert await frames(150) == [str(n) for n in range(150)]
    assert [len(message["texts"]) for _, message in layer.sent] == [64, 64, 22]


async def test_a_failed_group_send_is_logged_and_the_others_still_go(caplog):
    class HalfDown(RecordingLayer):
        async def group_send(self, group, message):
            if group == "feed.home":
                raise ConnectionError("shard down")
            await super().group_send(group, message)

    layer = HalfDown()
    await events.send_batch([events.Published(layer, ("topic.news", "feed.home"), "e", "x")])
    assert layer.sent == [
        ("topic.news", {"type": "feed.event", "group": "topic.news", "texts": ["x"]})
    ]
    assert "Live event to feed.home not delivered (1 frames)" in caplog.text


async def test_a_socket_gets_a_burst_of_frames_whole_and_in_order():
    socket = await connect()
    assert (await send(socket, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    texts = [f'{{"event":"post:new","payload":{{"n":{n}}}}}' for n in range(150)]
    await fanout.hub().deliver({"type": "feed.event", "group": "topic.news", "texts": texts})
    got = [(await until(socket, "post:new"))["payload"]["n"] for _ in texts]
    assert got == list(range(150))
    await socket.disconnect()


async def test_a_frame_for_a_group_without_local_sockets_is_dropped_quietly():
    await fanout.hub().deliver({"type": "feed.event", "texts": ["{}"], "group": "topic.none"})
    await fanout.hub().deliver({"type": "feed.event", "event": "post:new"})


async def test_losing_the_store_closes_every_live_socket_so_pages_reconnect(monkeypatch):
    import redis

    from nullboard import store

    class Down:
        async def ping(self):
            raise redis.exceptions.ConnectionError("gone")

        async def aclose(self):
            pass

    monkeypatch.setattr(fanout, "HEALTH_INTERVAL_SECONDS", 0.2)
    monkeypatch.setattr(store, "aclient_single", lambda: Down())
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    output = await socket.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": fanout.CLOSE_STORE_LOST}
    assert fanout.hub().members == {}
    assert fanout.hub().channel is None
