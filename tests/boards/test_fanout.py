"""The process's hub: one layer subscription per group, frames serialised once."""

from __future__ import annotations

from asgiref.sync import sync_to_async

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
    sent = []

    async def record(layer, groups, message):
        sent.append(message)

    monkeypatch.setattr(events, "_send_all", record)
    await sync_to_async(make_post)(topic="news")
    frame = sent[0]["text"]
    assert frame.startswith('{"event":"post:new","payload":{')


async def test_a_frame_for_a_group_without_local_sockets_is_dropped_quietly():
    await fanout.hub().deliver({"type": "feed.event", "text": "{}", "group": "topic.none"})
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
