"""Hostile input on every endpoint: always a JSON 4xx (or a clean WebSocket error
frame), never a 5xx, and nothing written to the store."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from boards import services as boards
from nullboard.asgi import application
from tests.conftest import HttpClient, pow_fields, start_session
from tests.reliability.conftest import blob, redis_snapshot, session_client

pytestmark = pytest.mark.redis

# Wrong-key counters are throttles, like the rate limits: a wrong key may bump them.
THROTTLE_MARKERS = (b":fails",)


def snapshot() -> dict[bytes, bytes]:
    found = redis_snapshot()
    return {k: v for k, v in found.items() if not any(m in k for m in THROTTLE_MARKERS)}


@pytest.fixture
def world(client):
    """A session, and one of everything, so ids that exist are in play too."""
    start_session(client)
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    room = boards.room_create()["room"]
    comment = boards.comment_create(post_id=post["id"], blob=blob(), author="quiet-owl-1234")
    response = client.post(
        "/api/drops",
        {"text": "a secret", **pow_fields(client)},
        content_type="application/json",
    )
    assert response.status_code == 201
    drop = response.json()
    return {"post": post["id"], "comment": comment["id"], "room": room, "drop": drop["id"]}


def write_endpoints(world) -> dict[str, dict]:
    """Each write path with a body that is valid but for its proof of work."""
    pow_ = {"pow_challenge": "0" * 32, "pow_nonce": "1"}
    return {
        "/api/posts": {"topic": "news", "blob": blob(), **pow_},
        f"/api/posts/{world['post']}/comments": {"blob": blob(), **pow_},
        "/api/flags": {"type": "post", "id": world["post"], "reason": "spam"},
        "/api/rooms": pow_,
        "/api/drops": {"text": "hello", **pow_},
        f"/api/drops/{world['drop']}/open": {"key": "0000-0000-0000-0000-0000-0000-0000"},
    }


def assert_json_4xx(response, *allowed: int) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if allowed:
        assert response.status_code in allowed, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = json.loads(response.content)
    assert set(body) == {"error", "detail"}
    assert isinstance(body["error"], str) and isinstance(body["detail"], str)
    return body


def post_raw(client, path: str, data: bytes, content_type: str = "application/json"):
    return client.generic("POST", path, data, content_type=content_type)


BROKEN_JSON = [
    b"{not json",
    b'{"a": 1',
    b"[1, 2, 3]",
    b"null",
    b'"a string"',
    b"12",
    b"\xff\xfe\x00garbage",
    b'{"a": "\xc3\x28"}',
    b"{" * 5000 + b"}" * 5000,
    b'{"blob": NaN}',
]


@pytest.mark.parametrize("body", BROKEN_JSON, ids=range(len(BROKEN_JSON)))
def test_broken_json_is_a_json_400_on_every_write(client, world, body):
    before = snapshot()
    for path in write_endpoints(world):
        response = post_raw(client, path, body)
        assert_json_4xx(response)
    assert snapshot() == before


WRONG_TYPES = [1, -1, 1.5, True, None, [], ["news"], {}, {"$gt": ""}, "", "x" * 100_000]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=range(len(WRONG_TYPES)))
def test_wrong_types_in_any_field_are_a_json_4xx(client, world, value):
    before = snapshot()
    for path, body in write_endpoints(world).items():
        extra = ["ttl_seconds", "max_views"] if path == "/api/drops" else []
        for name in [*body, *extra]:
            response = client.post(path, {**body, name: value}, content_type="application/json")
            assert_json_4xx(response)
    assert snapshot() == before


def test_nul_bytes_in_any_field_are_a_json_4xx(client, world):
    before = snapshot()
    for path, body in write_endpoints(world).items():
        for name, value in body.items():
            for bad in (value + "\x00", "\x00", "\x00" * 1000):
                response = client.post(path, {**body, name: bad}, content_type="application/json")
                assert_json_4xx(response)
    assert snapshot() == before


def test_lone_surrogates_are_a_json_4xx(client, world):
    """Valid JSON ("\\ud800") that is not valid Unicode text must not crash a view."""
    before = snapshot()
    for path, body in write_endpoints(world).items():
        for name in body:
            raw = json.dumps({**body, name: "\ud800x"}).encode()
            assert_json_4xx(post_raw(client, path, raw))
    assert snapshot() == before


def test_a_lone_surrogate_in_a_solved_write_is_a_json_4xx(client, world):
    """Past the proof of work too: a drop's text, and the nonce itself. The
    refused write leaves its challenge unspent."""
    writes = {p: b for p, b in write_endpoints(world).items() if "pow_challenge" in b}
    solved = {path: pow_fields(client) for path in writes}
    before = snapshot()
    for path, body in writes.items():
        fields = solved[path]
        for name in body:
            if not name.startswith("pow_"):
                data = {**body, **fields, name: "\ud800x"}
                assert_json_4xx(post_raw(client, path, json.dumps(data).encode()))
        data = {**body, **fields, "pow_nonce": fields["pow_nonce"] + "\ud800"}
        assert_json_4xx(post_raw(client, path, json.dumps(data).encode()))
    assert snapshot() == before


def test_a_body_over_the_upload_limit_is_a_json_413(client, world):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024
    huge = json.dumps({"blob": "A" * size, "text": "x", "key": "y"}).encode()
    before = snapshot()
    for path in write_endpoints(world):
        assert_json_4xx(post_raw(client, path, huge), 413)
    assert snapshot() == before


def test_a_form_body_over_the_upload_limit_is_a_json_4xx(client, world):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024
    huge = b"text=" + b"x" * size
    before = snapshot()
    for path in write_endpoints(world):
        assert_json_4xx(post_raw(client, path, huge, "application/x-www-form-urlencoded"))
    assert snapshot() == before


BROKEN_MULTIPART = [
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=text\r\n\r\nhi"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    ("multipart/form-data; boundary=x", b"no boundary here at all"),
    ("multipart/form-data; boundary=x", b'{"text": "json in disguise"}'),
    ("multipart/form-data; boundary=", b"--\r\n\r\n--"),
    ("multipart/form-data; boundary=" + "b" * 300, b"--" + b"b" * 300 + b"\r\n"),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="audio"; filename="a.webm"\r\n'
        b"Content-Type: audio/webm\r\n\r\nnot audio at all\r\n--x--\r\n",
    ),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="audio"; filename="../../etc/passwd"\r\n'
        b"\r\n\x1a\x45\xdf\xa3\x00\x00\r\n--x--\r\n",
    ),
]


@pytest.mark.parametrize("content_type,body", BROKEN_MULTIPART, ids=range(len(BROKEN_MULTIPART)))
def test_broken_multipart_is_a_json_4xx(client, world, content_type, body):
    before = snapshot()
    for path in write_endpoints(world):
        assert_json_4xx(post_raw(client, path, body, content_type))
    assert snapshot() == before


def test_an_oversized_voice_file_is_a_json_413(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = b"\x1a\x45\xdf\xa3" + b"\x00" * (settings.VOICE_MAX_BYTES + 10)
    before = snapshot()
    audio = SimpleUploadedFile("v.webm", data, content_type="audio/webm")
    response = client.post("/api/drops", {"audio": audio, **pow_fields(client)})
    assert_json_4xx(response, 413)
    after = snapshot()
    # Only the session's fresh challenge may be new.
    assert {k for k in after if b"pow:" not in k} == {k for k in before if b"pow:" not in k}


ID_TRICKS = [
    "..",
    "...",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e",
    "%2e%2e%2f",
    "..%5c..%5cwindows",
    "nb:*",
    "*",
    "post:*",
    "%00",
    "a%00b",
    "0000000000000000%00",
    "%ff%fe",
    "%25",
    "\u202e0123456789abcdef",
    "0" * 5000,
    "A" * 16,
    "ABCDEFGHIJKLMNOP",
    "__proto__",
    "{id}",
    "%7B%7D",
    "%20",
]


@pytest.mark.parametrize("trick", ID_TRICKS, ids=range(len(ID_TRICKS)))
def test_path_tricks_in_ids_are_a_clean_4xx(client, world, trick):
    before = snapshot()
    api = [
        ("GET", f"/api/posts/{trick}"),
        ("GET", f"/api/posts/{trick}/comments"),
        ("POST", f"/api/posts/{trick}/comments"),
        ("POST", f"/api/drops/{trick}/open"),
    ]
    for method, path in api:
        body = {"blob": blob(), "key": "k", "pow_challenge": "0" * 32, "pow_nonce": "1"}
        response = client.generic(method, path, json.dumps(body), content_type="application/json")
        assert_json_4xx(response, 400, 403, 404, 410)
    pages = [
        f"/post/{trick}",
        f"/topic/{trick}",
        f"/r/{trick}",
        f"/d/{trick}",
        f"/d/{trick}/qr.svg",
        f"/d/{trick}/audio/{trick}",
        f"/d/{trick}/receipt/{trick}",
        f"/d/{world['drop']}/audio/{trick}",
        f"/d/{world['drop']}/receipt/{trick}",
    ]
    for path in pages:
        response = client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    assert {k for k in snapshot() if b"session" not in k} == {
        k for k in before if b"session" not in k
    }


ABSURD_QUERIES = [
    "cursor=-1",
    "cursor=0",
    "cursor=99999999999999999999999999",
    "cursor=18446744073709551616",
    "cursor=00000000000000000000",
    "cursor=1e309",
    "cursor=inf",
    "cursor=%2Binf",
    "cursor=(5",
    "cursor=nan",
    "cursor=" + "9" * 5000,
    "cursor=%00",
    "cursor=1&cursor=2",
    "topic=..%2f",
    "topic=nb:*",
    "topic=" + "a" * 5000,
    "topic=NEWS",
    "topic=news&room=abc",
    "room=nb:*",
    "room=" + "A" * 22,
    "room=%00" * 22,
    "topic[]=news",
    "topic=news%00",
]


@pytest.mark.parametrize("query", ABSURD_QUERIES, ids=range(len(ABSURD_QUERIES)))
def test_absurd_feed_queries_are_a_page_or_a_json_4xx(client, world, query):
    before = snapshot()
    response = client.get(f"/api/posts?{query}")
    if response.status_code == 200:
        page = response.json()
        assert isinstance(page["items"], list)
    else:
        assert_json_4xx(response, 400, 404)
    assert snapshot() == before


def test_a_drop_life_of_188_point_0_is_188(client):
    """JSON has one number type: 188.0 is the integer 188 (JSON Schema agrees)."""
    response = client.post(
        "/api/drops",
        {"text": "x", "ttl_seconds": 188.0, **pow_fields(client)},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


# --- through a real daphne: the ASGI server's own body and header handling ------------


def test_hostile_bodies_through_daphne_are_json_4xx(web):
    client = session_client(web.url)
    before = snapshot()
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024
    cases = [
        ("application/json", b"{" * 100),
        ("application/json", b'{"text": "' + b"x" * size + b'"}'),
        ("application/x-www-form-urlencoded", b"text=" + b"x" * size),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("multipart/mixed", b"--x\r\n"),
        ("text/plain", b"\x00" * 1000),
    ]
    paths = ["/api/posts", "/api/flags", "/api/rooms", "/api/drops", "/api/drops/x/open"]
    for content_type, body in cases:
        for path in paths:
            status, headers, answer = raw_post(client, path, body, content_type)
            assert 400 <= status < 500, (path, content_type, status, answer[:200])
            assert headers["Content-Type"] == "application/json", (path, answer[:200])
            assert set(json.loads(answer)) == {"error", "detail"}
    # Twisted (under daphne) parses multipart itself and answers a multipart body
    # without a boundary with a bare 400 before the site sees it: clean, not JSON.
    for content_type in ("multipart/form-data", "multipart/form-data; boundary="):
        status, _, _ = raw_post(client, "/api/drops", b"--x\r\n", content_type)
        assert status == 400
    assert snapshot() == before


def raw_post(client: HttpClient, path: str, body: bytes, content_type: str):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(client.base_url + path, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("X-CSRFToken", client.csrf())
    request.add_header("Origin", client.base_url)
    try:
        with client.opener.open(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# --- WebSocket frames ------------------------------------------------------------------


async def feed_socket() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["event"] == "session:ready"
    return communicator


async def still_works(communicator) -> None:
    await communicator.send_json_to({"event": "topic:join", "payload": {"topic": "news"}})
    answer = await communicator.receive_json_from()
    assert answer == {"event": "topic:joined", "payload": {"topic": "news"}}


BAD_FRAMES = [
    ("x" * (16 * 1024 + 1), "too_large"),
    ("é" * (9 * 1024), "too_large"),
    (json.dumps({"event": "topic:join", "payload": {"topic": "n" * 20000}}), "too_large"),
    ("not json", "invalid_json"),
    ("{", "invalid_json"),
    ("NaN", "invalid_frame"),
    ("[]", "invalid_frame"),
    ("null", "invalid_frame"),
    ('"topic:join"', "invalid_frame"),
    ('{"event": "topic:join", "payload": []}', "invalid_frame"),
    ('{"event": "topic:join", "payload": "news"}', "invalid_frame"),
    ('{"event": "post:new", "payload": {}}', "unknown_event"),
    ('{"event": ["topic:join"], "payload": {}}', "unknown_event"),
    ('{"event": "__init__", "payload": {}}', "unknown_event"),
    ('{"event": "topic:join"}', "invalid_payload"),
    ('{"event": "topic:join", "payload": {"topic": "news", "room": "x"}}', "invalid_payload"),
    ('{"event": "topic:join", "payload": {"topic": "../x"}}', "invalid_topic"),
    ('{"event": "topic:join", "payload": {"topic": 5}}', "invalid_topic"),
    ('{"event": "topic:join", "payload": {"topic": "nb:*"}}', "invalid_topic"),
    ('{"event": "topic:join", "payload": {"room": "nb:*"}}', "invalid_room"),
    ('{"event": "topic:join", "payload": {"room": "AAAAAAAAAAAAAAAAAAAAAA"}}', "no_room"),
    ('{"event": "topic:leave", "payload": {"feed": "all"}}', "invalid_feed"),
    ('{"event": "topic:join", "payload": {"topic": "news\\u0000"}}', "invalid_topic"),
]


@pytest.mark.parametrize("frame,code", BAD_FRAMES, ids=range(len(BAD_FRAMES)))
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_lives(frame, code):
    from asgiref.sync import sync_to_async

    before = await sync_to_async(snapshot)()
    communicator = await feed_socket()
    await communicator.send_to(text_data=frame)
    answer = await communicator.receive_json_from()
    assert answer["event"] == "error"
    assert answer["payload"]["code"] == code
    await still_works(communicator)
    assert await communicator.receive_nothing()
    await communicator.disconnect()
    assert await sync_to_async(snapshot)() == before


async def test_a_binary_frame_gets_an_error_frame():
    communicator = await feed_socket()
    for data in (b"\x00\xff", b'{"event": "topic:join", "payload": {"topic": "news"}}'):
        await communicator.send_to(bytes_data=data)
        answer = await communicator.receive_json_from()
        assert answer["payload"]["code"] == "invalid_frame"
    await still_works(communicator)
    await communicator.disconnect()


async def test_ten_thousand_joins_hold_twenty_subscriptions_at_most():
    from boards.consumers import MAX_SUBSCRIPTIONS

    communicator = await feed_socket()
    for n in range(10_000):
        topic = f"t{n:05d}"
        await communicator.send_json_to({"event": "topic:join", "payload": {"topic": topic}})
    joined = refused = 0
    for _ in range(10_000):
        answer = await communicator.receive_json_from(timeout=5)
        if answer["event"] == "topic:joined":
            joined += 1
        else:
            assert answer["payload"]["code"] == "too_many"
            refused += 1
    assert (joined, refused) == (MAX_SUBSCRIPTIONS, 10_000 - MAX_SUBSCRIPTIONS)
    # Joining one it already holds is fine; a new one is still refused.
    await communicator.send_json_to({"event": "topic:join", "payload": {"topic": "t00000"}})
    assert (await communicator.receive_json_from())["event"] == "topic:joined"
    await communicator.disconnect()


async def test_oversized_and_binary_frames_through_daphne(web):
    """The real server: a 1 MiB frame and binary garbage get an error frame or a
    clean close, and the server keeps serving."""
    import websockets

    url = web.url.replace("http://", "ws://") + "/ws/feed/"
    # Up to daphne's 1 MiB cap the consumer answers with an error frame; past it
    # daphne drops the connection.
    for frame in ("x" * (1024 * 1024), "x" * (2 * 1024 * 1024), b"\x00" * 70_000, "{" * 20_000):
        async with websockets.connect(url, origin=web.url, max_size=None) as socket:
            assert json.loads(await socket.recv())["event"] == "session:ready"
            try:
                await socket.send(frame)
                answer = json.loads(await socket.recv())
                assert answer["event"] == "error"
            except (websockets.ConnectionClosed, ConnectionResetError) as closed:
                # Past its cap daphne drops the connection (autobahn: no close frame),
                # sometimes while the frame is still on its way.
                code = getattr(getattr(closed, "rcvd", None), "code", None)
                assert len(frame) > 1024 * 1024 or code in (1000, 1009)
    async with websockets.connect(url, origin=web.url) as socket:
        assert json.loads(await socket.recv())["event"] == "session:ready"
        await socket.send(json.dumps({"event": "topic:join", "payload": {"topic": "news"}}))
        assert json.loads(await socket.recv())["event"] == "topic:joined"


def test_a_foreign_origin_socket_is_refused_through_daphne(web):
    import asyncio

    import websockets

    async def attempt():
        url = web.url.replace("http://", "ws://") + "/ws/feed/"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, origin="https://evil.example"):
                pass
        return refused.value.response.status_code

    assert asyncio.run(attempt()) == 403
