"""The process's hub: one layer subscription per group, frames serialised once."""

from __future__ import annotations

import asyncio
import threading
import time

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings

from boards import events
from nullboard.live import hub as live_hub
from nullboard.live import sender

from .helpers import make_post
from .test_consumer import connect, send


async def until(socket, event: str) -> dict:
    """The next frame named ``event``, skipping others (trending updates)."""
    while True:
        frame = await socket.receive_json_from()
        if frame["event"] == event:
            return frame


class PinnedClock:
    """The live layer's clock, moved on only by its own pauses: a retry's waiting is
    counted, not timed, so a busy machine cannot stretch it."""

    def __init__(self, monkeypatch) -> None:
        self.now = 0.0
        clock, real_sleep = self, asyncio.sleep

        async def sleep(seconds: float, *args) -> None:
            clock.now += seconds
            await real_sleep(0)

        class Asyncio:  # the sender's asyncio: the real one but for sleep
            def __getattr__(self, name):
                return sleep if name == "sleep" else getattr(asyncio, name)

        class Time:  # the sender's time: the real one but for monotonic
            def __getattr__(self, name):
                return (lambda: clock.now) if name == "monotonic" else getattr(time, name)

        monkeypatch.setattr(sender, "asyncio", Asyncio())
        monkeypatch.setattr(sender, "time", Time())


def members(group: str) -> int:
    return len(live_hub.hub().members.get(group, ()))


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
    sent: list[sender.Published] = []

    async def record(batch, **options):
        sent.extend(batch)
        return True

    monkeypatch.setattr(sender, "send_batch", record)
    await sync_to_async(make_post)(topic="news")
    for _ in range(20):
        if sent:
            break
        await asyncio.sleep(0.01)
    assert sent[0].event == "post:new"
    assert sent[0].text.startswith('{"event":"post:new","payload":{')


class Sends(list):
    """(thread name, monotonic time) per batch sent; ``done`` is set at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()


def record_sends(monkeypatch) -> Sends:
    """Where and when each batch is sent: (thread name, monotonic time)."""
    sends = Sends()
    real = sender.send_batch

    async def record(batch, **options):
        sends.append((threading.current_thread().name, time.monotonic()))
        sends.done.set()
        return await real(batch, **options)

    monkeypatch.setattr(sender, "send_batch", record)
    return sends


async def test_outside_a_server_an_event_is_sent_before_publish_returns(monkeypatch):
    """A command's publish (no serving loop): sent on the caller's loop, no thread
    or loop of the live layer's own, before the caller goes on."""
    sends = record_sends(monkeypatch)
    sent_when_it_returned = []

    def command() -> None:
        events.publish([events.HOME_GROUP], "post:new", {"id": "x"})
        sent_when_it_returned.append(len(sends))  # before the caller goes on

    await sync_to_async(command)()
    assert sent_when_it_returned == [1], "the event waited for the serving loop"
    (thread, _) = sends[0]
    assert thread == threading.current_thread().name


async def test_on_a_serving_loop_publish_queues_and_the_request_goes_on(monkeypatch):
    release, sends = asyncio.Event(), []

    async def held(batch, **options):
        await release.wait()  # a store that takes its time
        sends.append(batch)
        return True

    async def app(scope, receive, send) -> None:
        pass

    monkeypatch.setattr(sender, "send_batch", held)
    await sender.serve(app)({"type": "http"}, None, None)  # this loop now serves
    publish = sync_to_async(events.publish)([events.HOME_GROUP], "post:new", {"id": "x"})
    await asyncio.wait_for(publish, 2)  # returned without waiting for the send
    assert not sends
    release.set()
    while not sends:
        await asyncio.sleep(0.01)
    assert [item.event for item in sends[0]] == ["post:new"]


async def test_the_in_memory_layer_is_sent_to_from_its_own_loop(monkeypatch):
    sends = record_sends(monkeypatch)
    monkeypatch.setattr(sender, "get_channel_layer", InMemoryChannelLayer)
    await sync_to_async(events.publish)([events.HOME_GROUP], "post:new", {"id": "x"})
    for _ in range(500):
        if sends:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    assert [thread for thread, _ in sends] == [threading.current_thread().name]


class RecordingLayer:
    """A layer that takes ``delay`` per group_send and remembers what it was sent."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.sent = delay, []

    async def group_send(self, group: str, message: dict) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append((group, message))


class GatedLayer(RecordingLayer):
    """Holds every send until ``gate`` opens; ``started`` is set at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.gate = asyncio.Event(), asyncio.Event()

    async def group_send(self, group: str, message: dict) -> None:
        self.started.set()
        await self.gate.wait()
        await super().group_send(group, message)


async def test_a_batch_sends_one_message_per_group_with_its_frames_in_order():
    layer = RecordingLayer()
    await sender.send_batch(
        [
            sender.Published(layer, ("topic.news", "feed.home"), "post:new", "a"),
            sender.Published(layer, ("feed.trending",), "topics:trending", "b"),
            sender.Published(layer, ("topic.news", "feed.home"), "comment:new", "c"),
        ]
    )
    assert sorted((group, message["texts"]) for group, message in layer.sent) == [
        ("feed.home", ["a", "c"]),
        ("feed.trending", ["b"]),
        ("topic.news", ["a", "c"]),
    ]
    assert {message["type"] for _, message in layer.sent} == {sender.MESSAGE_TYPE}
    assert all(message["group"] == group for group, message in layer.sent)


async def test_a_backlog_goes_out_in_few_messages_in_publish_order():
    """While one send is in flight, later events queue and leave together: a busy
    process makes a round trip per group per batch, not per event."""
    layer = GatedLayer()
    loop = asyncio.get_running_loop()

    def publish(numbers) -> None:
        for n in numbers:
            sender._enqueue(loop, sender.Published(layer, ("topic.news",), "post:new", str(n)))

    async def frames(count: int) -> list[str]:
        while sum(len(message["texts"]) for _, message in layer.sent) < count:
            await asyncio.sleep(0.01)
        return [text for _, message in layer.sent for text in message["texts"]]

    publish([0])
    await layer.started.wait()  # the first event's send is now in flight
    publish(range(1, 40))
    layer.gate.set()
    assert await frames(40) == [str(n) for n in range(40)]
    assert [len(message["texts"]) for _, message in layer.sent] == [1, 39]
    layer.sent.clear()
    publish(range(150))  # a batch is capped, so one message stays a modest size
    assert await frames(150) == [str(n) for n in range(150)]
    assert [len(message["texts"]) for _, message in layer.sent] == [64, 64, 22]


class FlakyLayer(RecordingLayer):
    """Refuses sends to ``group`` ``failures`` times (a dropped connection, a
    failover), then takes them."""

    def __init__(self, group: str, failures: int) -> None:
        super().__init__()
        self.group, self.failures = group, failures

    async def group_send(self, group, message):
        if group == self.group and self.failures:
            self.failures -= 1
            raise ConnectionError("shard down")
        await super().group_send(group, message)


async def test_a_failed_group_send_is_retried_and_the_others_go_once(monkeypatch):
    PinnedClock(monkeypatch)
    layer = FlakyLayer("feed.home", failures=3)
    item = sender.Published(layer, ("topic.news", "feed.home"), "e", "x")
    assert await sender.send_batch([item], retry_seconds=5)
    assert [(group, message["texts"]) for group, message in layer.sent] == [
        ("topic.news", ["x"]),
        ("feed.home", ["x"]),
    ]


async def test_a_send_still_failing_after_the_retries_is_logged_and_dropped(caplog, monkeypatch):
    clock = PinnedClock(monkeypatch)
    layer = FlakyLayer("feed.home", failures=1000)
    item = sender.Published(layer, ("topic.news", "feed.home"), "e", "x")
    assert not await sender.send_batch([item], retry_seconds=0.5)
    assert 0.2 < clock.now < 1.5
    assert [group for group, _ in layer.sent] == ["topic.news"]
    assert "Live event to feed.home not delivered (1 frames)" in caplog.text


async def test_while_the_layer_keeps_failing_later_batches_are_not_retried(monkeypatch):
    monkeypatch.setattr(sender, "RETRY_SECONDS", 0.3)
    clock = PinnedClock(monkeypatch)
    layer = FlakyLayer("topic.news", failures=1000)
    loop = asyncio.get_running_loop()
    for n in range(3):
        sender._enqueue(loop, sender.Published(layer, ("topic.news",), "e", str(n)))
        await asyncio.sleep(0.01)  # three batches: one event each
    running = sender._senders[loop]
    while not running.queue.empty() or not running.failing:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert clock.now < 0.9  # one batch waited out its retries, not three
    layer.failures = 0
    sender._enqueue(loop, sender.Published(layer, ("topic.news",), "e", "back"))
    while not layer.sent:
        await asyncio.sleep(0.01)
    assert layer.sent[0][1]["texts"] == ["back"] and not running.failing


async def test_each_group_numbers_its_messages_and_a_lost_one_still_uses_its_number():
    layer, stream = FlakyLayer("feed.home", failures=1000), sender.Stream()

    async def send(text: str) -> None:
        item = sender.Published(layer, ("topic.news", "feed.home"), "e", text)
        await sender.send_batch([item], retry_seconds=0, stream=stream)

    await send("a")
    await send("b")
    layer.failures = 0
    await send("c")
    numbers = [(group, message["number"], message["texts"]) for group, message in layer.sent]
    assert numbers == [
        ("topic.news", 1, ["a"]),
        ("topic.news", 2, ["b"]),
        ("topic.news", 3, ["c"]),
        ("feed.home", 3, ["c"]),  # 1 and 2 were lost: the hubs will see the gap
    ]
    assert {message["stream"] for _, message in layer.sent} == {stream.id}


async def test_the_hub_drops_a_repeat_and_closes_sockets_on_a_skipped_number(monkeypatch):
    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.1)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})

    def message(number: int) -> dict:
        frame = f'{{"event":"post:new","payload":{{"n":{number}}}}}'
        return {"group": "topic.news", "texts": [frame], "stream": "s1", "number": number}

    hub = live_hub.hub()
    for number in (1, 2, 2, 3):  # 2 again: a retried send that had got through
        await hub.deliver(message(number))
    assert [(await until(socket, "post:new"))["payload"]["n"] for _ in range(3)] == [1, 2, 3]
    assert not hub.gap
    await hub.deliver(message(5))  # 4 never came
    assert (await until(socket, "post:new"))["payload"]["n"] == 5
    assert hub.gap
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}


async def test_a_socket_gets_a_burst_of_frames_whole_and_in_order():
    socket = await connect()
    assert (await send(socket, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    texts = [f'{{"event":"post:new","payload":{{"n":{n}}}}}' for n in range(150)]
    await live_hub.hub().deliver({"type": "feed.event", "group": "topic.news", "texts": texts})
    got = [(await until(socket, "post:new"))["payload"]["n"] for _ in texts]
    assert got == list(range(150))
    await socket.disconnect()


async def test_a_fanned_out_frame_skips_the_session_send_wrapper(monkeypatch):
    """The hub writes to the server's own send: Channels' session wrapper, which saves
    nothing on a websocket.send, costs a fifth of a fan-out (docs/scaling.md). The
    consumer's own replies still go through it."""
    wrapped: list[str] = []
    real = InstanceSessionWrapper.send

    async def counting(self, message):
        wrapped.append(message.get("text", ""))
        await real(self, message)

    monkeypatch.setattr(InstanceSessionWrapper, "send", counting)
    sockets = [await connect(), await connect()]
    for socket in sockets:
        assert (await send(socket, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    assert any("topic:joined" in text for text in wrapped)
    wrapped.clear()
    texts = [f'{{"event":"post:new","payload":{{"n":{n}}}}}' for n in range(3)]
    await live_hub.hub().deliver({"type": "feed.event", "group": "topic.news", "texts": texts})
    for socket in sockets:
        assert [(await until(socket, "post:new"))["payload"]["n"] for _ in texts] == [0, 1, 2]
        await socket.disconnect()
    assert not any("post:new" in text for text in wrapped)


async def test_a_frame_for_a_group_without_local_sockets_is_dropped_quietly():
    await live_hub.hub().deliver({"type": "feed.event", "texts": ["{}"], "group": "topic.none"})
    await live_hub.hub().deliver({"type": "feed.event", "event": "post:new"})


async def closed(socket) -> dict:
    return await socket.receive_output(timeout=3)


async def test_losing_the_store_closes_every_live_socket_so_pages_reconnect(monkeypatch):
    import redis

    async def down(channel, message):
        raise redis.exceptions.ConnectionError("gone")

    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.1)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    monkeypatch.setattr(live_hub.hub().layer, "send", down)
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}
    assert live_hub.hub().members == {}
    assert live_hub.hub().channel is None


async def test_a_gap_in_the_heartbeats_closes_the_sockets(monkeypatch):
    """The subscription reconnected (a failover): what was published meanwhile is
    lost, so pages must re-read rather than go on saying "Live"."""
    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.1)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    hub = live_hub.hub()
    real = hub.layer.send

    async def lose_one(channel, message):
        if message["n"] != 3:  # heartbeat 3 is published into a dead subscription
            await real(channel, message)

    monkeypatch.setattr(hub.layer, "send", lose_one)
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}
    assert hub.heard >= 4


async def test_heartbeats_that_never_come_back_close_the_sockets(monkeypatch):
    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.1)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})

    async def into_the_void(channel, message):
        pass  # accepted by the store, never delivered

    monkeypatch.setattr(live_hub.hub().layer, "send", into_the_void)
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}


async def test_a_healthy_path_keeps_sockets_open_and_events_flowing(monkeypatch):
    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.05)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    hub = live_hub.hub()
    for _ in range(400):  # heartbeats, through the real Redis
        if hub.heard >= 10:
            break
        await asyncio.sleep(0.05)
    assert hub.heard >= 10 and not hub.gap
    post = await sync_to_async(make_post)(topic="news")
    assert (await until(socket, "post:new"))["payload"] == post
    await socket.disconnect()


async def test_a_message_for_a_group_just_left_does_not_count_as_a_gap_later():
    hub = live_hub.hub()
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})

    def message(number: int) -> dict:
        frame = f'{{"event":"post:new","payload":{{"n":{number}}}}}'
        return {"group": "topic.news", "texts": [frame], "stream": "s1", "number": number}

    await hub.deliver(message(1))
    await socket.send_json_to({"event": "topic:leave", "payload": {"topic": "news"}})
    await until(socket, "topic:left")
    await hub.deliver(message(2))  # was already queued when the last socket left
    await socket.send_json_to({"event": "topic:join", "payload": {"topic": "news"}})
    await until(socket, "topic:joined")
    await hub.deliver(message(4))  # 3 went out while nobody here listened
    assert (await until(socket, "post:new"))["payload"]["n"] == 4
    assert not hub.gap
    await socket.disconnect()


async def test_a_full_channel_closes_the_sockets_instead_of_stopping_the_watch(monkeypatch):
    from channels.exceptions import ChannelFull

    async def full(channel, message):
        raise ChannelFull()

    monkeypatch.setattr(settings, "LIVE_HEALTH_INTERVAL_SECONDS", 0.1)
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    monkeypatch.setattr(live_hub.hub().layer, "send", full)
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}


async def test_a_send_that_hangs_counts_as_failed(monkeypatch):
    class Hanging(RecordingLayer):
        async def group_send(self, group, message):
            await asyncio.sleep(3600)  # a partitioned master: no answer, no error

    monkeypatch.setattr(sender, "SEND_TIMEOUT", 0.05)
    clock = PinnedClock(monkeypatch)
    item = sender.Published(Hanging(), ("topic.news",), "e", "x")
    assert not await sender.send_batch([item], retry_seconds=0.3)
    assert clock.now < 1.5


async def test_a_reset_from_outside_the_watch_stops_the_old_watch_and_pump():
    socket = await connect()
    await send(socket, "topic:join", {"topic": "news"})
    hub = live_hub.hub()
    watch, pump = hub.watch, hub.pump
    await hub.drop_all()
    await asyncio.wait({watch, pump}, timeout=10)
    assert watch.done() and pump.done()
    assert await closed(socket) == {"type": "websocket.close", "code": live_hub.CLOSE_STORE_LOST}
