"""ASGI routing: WebSockets check Origin and carry the visitor's session."""

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from nullboard.asgi import application


async def test_a_socket_from_another_origin_is_refused():
    socket = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await socket.connect()
    assert not connected


async def test_a_socket_without_origin_is_refused():
    socket = WebsocketCommunicator(application, "/ws/feed/")
    connected, _ = await socket.connect()
    assert not connected


async def test_the_socket_knows_the_visitors_session():
    def make_session():
        client = Client()
        name = client.post("/api/session").json()["username"]
        return name, client.cookies[settings.SESSION_COOKIE_NAME].value

    name, cookie = await sync_to_async(make_session)()
    socket = WebsocketCommunicator(
        application,
        "/ws/feed/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    connected, _ = await socket.connect()
    assert connected
    frame = await socket.receive_json_from()
    assert frame == {"event": "session:ready", "payload": frame["payload"]}
    assert frame["payload"]["username"] == name
    await socket.disconnect()


async def test_unknown_websocket_paths_are_closed():
    socket = WebsocketCommunicator(
        application, "/ws/nothing/", headers=[(b"origin", b"http://localhost")]
    )
    try:
        connected, _ = await socket.connect()
    except ValueError:  # the router refuses the path outright
        connected = False
    assert not connected
