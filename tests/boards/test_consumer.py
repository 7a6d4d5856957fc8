"""The live feed consumer, through the real ASGI router on the test channel layer."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from boards import consumers, services
from nullboard.asgi import application
from tests.conftest import start_session

from .helpers import make_comment, make_post

ORIGIN = (b"origin", b"http://testserver")


async def connect(cookie: str | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/feed/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    ready = await communicator.receive_json_from()
    assert ready["event"] == "session:ready"
    communicator.ready = ready["payload"]
    return communicator


async def send(communicator, event: str, payload: dict) -> dict:
    await communicator.send_json_to({"event": event, "payload": payload})
    return await communicator.receive_json_from()


async def test_it_greets_with_the_visitors_name():
    client = Client()
    session = await sync_to_async(start_session)(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    communicator = await connect(cookie)
    assert communicator.ready["username"] == session["username"]
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_it_greets_a_visitor_without_a_session():
    communicator = await connect()
    assert communicator.ready["username"] is None
    await communicator.disconnect()


async def test_it_refuses_a_foreign_origin():
    communicator = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_subscriber_gets_new_posts_of_its_topic():
    communicator = await connect()
    assert await send(communicator, "topic:join", {"topic": "news"}) == {
        "event": "topic:joined",
        "payload": {"topic": "news"},
    }
    post = await sync_to_async(make_post)(topic="news")
    await sync_to_async(make_post)(topic="sport")  # another topic: not for us
    frame = await communicator.receive_json_from()
    assert frame == {"event": "post:new", "payload": post}
    trending = await communicator.receive_json_from()
    assert trending["event"] == "topics:trending"
    trending = await communicator.receive_json_from()  # sport's bump, to every socket
    assert trending["event"] == "topics:trending"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_subscriber_gets_comments_and_moderation_events():
    communicator = await connect()
    await send(communicator, "topic:join", {"topic": "news"})
    post = await sync_to_async(make_post)(topic="news")
    assert (await communicator.receive_json_from())["event"] == "post:new"
    assert (await communicator.receive_json_from())["event"] == "topics:trending"
    comment = await sync_to_async(make_comment)(post["id"])
    frame = await communicator.receive_json_from()
    assert frame == {"event": "comment:new", "payload": {**comment, "topic": "news"}}
    await sync_to_async(services.comment_hide)(comment_id=comment["id"])
    assert (await communicator.receive_json_from())["event"] == "comment:hidden"
    await sync_to_async(services.post_remove)(post_id=post["id"])
    removed = await communicator.receive_json_from()
    assert removed == {"event": "post:removed", "payload": {"id": post["id"], "topic": "news"}}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_the_home_feed_gets_every_topic_but_no_rooms():
    communicator = await connect()
    await send(communicator, "topic:join", {"feed": "home"})
    room = (await sync_to_async(services.room_create)())["room"]
    await sync_to_async(make_post)(room=room)
    post = await sync_to_async(make_post)(topic="culture")
    assert await communicator.receive_json_from() == {"event": "post:new", "payload": post}
    assert (await communicator.receive_json_from())["event"] == "topics:trending"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_room_subscriber_gets_room_posts():
    room = (await sync_to_async(services.room_create)())["room"]
    communicator = await connect()
    assert (await send(communicator, "topic:join", {"room": room}))["event"] == "topic:joined"
    post = await sync_to_async(make_post)(room=room)
    assert await communicator.receive_json_from() == {"event": "post:new", "payload": post}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_it_refuses_to_join_a_missing_room():
    communicator = await connect()
    frame = await send(communicator, "topic:join", {"room": "A" * 22})
    assert frame["event"] == "error"
    assert frame["payload"]["code"] == "no_room"
    await communicator.disconnect()


async def test_leaving_stops_the_events():
    communicator = await connect()
    await send(communicator, "topic:join", {"topic": "news"})
    assert await send(communicator, "topic:leave", {"topic": "news"}) == {
        "event": "topic:left",
        "payload": {"topic": "news"},
    }
    await sync_to_async(make_post)(topic="news")
    assert (await communicator.receive_json_from())["event"] == "topics:trending"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_trending_announcements_are_throttled_per_topic():
    communicator = await connect()
    for _ in range(3):
        await sync_to_async(make_post)(topic="news")
    frame = await communicator.receive_json_from()
    assert frame["event"] == "topics:trending"
    assert frame["payload"]["items"][0]["topic"] == "news"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_bad_frames_get_errors_and_the_socket_lives_on():
    communicator = await connect()
    bad = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"event": "topic:join", "payload": "news"}),
        json.dumps({"event": "nope", "payload": {}}),
        json.dumps({"event": ["topic:join"], "payload": {}}),
        json.dumps({"event": {"a": 1}, "payload": {}}),
        json.dumps({"event": None}),
        json.dumps({"event": "topic:join", "payload": {"topic": "Bad Slug!"}}),
        json.dumps({"event": "topic:join", "payload": {"topic": "x" * 500}}),
        json.dumps({"event": "topic:join", "payload": {"room": "../../etc"}}),
        json.dumps({"event": "topic:join", "payload": {"topic": "news", "room": "A" * 22}}),
        json.dumps({"event": "topic:join", "payload": {"feed": "everything"}}),
        json.dumps({"event": "topic:join", "payload": {"topic": ["news"]}}),
        json.dumps({"event": "topic:join", "payload": {"topic": "a" * 17000}}),
    ]
    codes = []
    for text in bad:
        await communicator.send_to(text_data=text)
        frame = await communicator.receive_json_from()
        assert frame["event"] == "error"
        codes.append(frame["payload"]["code"])
    assert codes[-1] == "too_large"
    assert "unknown_event" in codes
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from())["payload"]["code"] == "invalid_frame"
    # still alive and useful
    assert (await send(communicator, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_subscriptions_per_socket_are_bounded():
    communicator = await connect()
    for n in range(consumers.MAX_SUBSCRIPTIONS):
        frame = await send(communicator, "topic:join", {"topic": f"topic-{n}"})
        assert frame["event"] == "topic:joined"
    frame = await send(communicator, "topic:join", {"topic": "one-too-many"})
    assert frame["payload"]["code"] == "too_many"
    # joining one it already holds is fine
    frame = await send(communicator, "topic:join", {"topic": "topic-0"})
    assert frame["event"] == "topic:joined"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_store_outage_during_a_join_is_an_error_frame(monkeypatch):
    import redis

    from nullboard import redis_utils

    communicator = await connect()

    class Down:
        async def exists(self, *args):
            raise redis.exceptions.ConnectionError("down")

    monkeypatch.setattr(redis_utils, "aclient", lambda: Down())
    frame = await send(communicator, "topic:join", {"room": "A" * 22})
    assert frame["payload"]["code"] == "unavailable"
    monkeypatch.undo()
    assert (await send(communicator, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


HOSTILE_FRAMES = [
    ("[" * (16 * 1024 - 1), "too_deep"),
    ('{"event": "topic:join", "payload": {"topic": ' + "[" * 5000 + "]" * 5000 + "}}", "too_deep"),
    ('{"event": "topic:join", "payload": {"n": ' + "9" * 5000 + "}}", "invalid_number"),
    ('{"event": "topic:join", "payload": {"n": -' + "9" * 30 + "}}", "invalid_number"),
    ("12345", "invalid_frame"),
    ('"topic:join"', "invalid_frame"),
    ('{"event": "admin:flush", "payload": {}}', "unknown_event"),
]


async def test_hostile_frames_get_an_error_frame_and_no_trace_in_the_log(caplog):
    communicator = await connect()
    for text, code in HOSTILE_FRAMES:
        await communicator.send_to(text_data=text)
        frame = await communicator.receive_json_from()
        assert frame["event"] == "error", text[:40]
        assert frame["payload"]["error"] == code, text[:40]
        assert frame["payload"]["detail"]
    await communicator.send_to(bytes_data=b"[" * 1000)
    assert (await communicator.receive_json_from())["payload"]["error"] == "invalid_frame"
    assert (await send(communicator, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    assert await communicator.receive_nothing()
    await communicator.disconnect()
    assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")]


async def test_a_bug_in_a_handler_is_an_error_frame_not_a_dead_socket(monkeypatch, caplog):
    communicator = await connect()

    async def broken(self, payload):
        raise KeyError("a bug")

    monkeypatch.setattr(consumers.FeedConsumer, "join", broken)
    frame = await send(communicator, "topic:join", {"topic": "news"})
    assert frame["payload"]["error"] == "server_error"
    monkeypatch.undo()
    assert (await send(communicator, "topic:join", {"topic": "news"}))["event"] == "topic:joined"
    await communicator.disconnect()


async def test_names_with_a_trailing_newline_are_refused():
    room = (await sync_to_async(services.room_create)())["room"]
    communicator = await connect()
    for payload, code in [
        ({"topic": "news\n"}, "invalid_topic"),
        ({"room": room + "\n"}, "invalid_room"),
    ]:
        for event in ("topic:join", "topic:leave"):
            frame = await send(communicator, event, payload)
            assert frame["payload"]["error"] == code
    assert not communicator_groups()
    await communicator.disconnect()


def communicator_groups() -> list[str]:
    """Topic and room groups the process's hub holds."""
    from nullboard.live import hub as live_hub

    return [g for g in live_hub.hub().members if g.startswith(("topic.", "room."))]


async def test_an_origin_with_a_trailing_newline_is_refused():
    communicator = WebsocketCommunicator(
        application,
        "/ws/feed/",
        headers=[(b"origin", b"http://testserver\n"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect()
    assert not connected
