"""A cap on open live-feed sockets per client, shared through Redis."""

from channels.testing import WebsocketCommunicator

from nullboard import redis_utils
from nullboard.asgi import application


def socket(forwarded_for: str = "198.51.100.7") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application,
        "/ws/feed/",
        headers=[(b"origin", b"http://localhost"), (b"x-forwarded-for", forwarded_for.encode())],
    )


async def test_a_client_over_the_cap_is_refused_until_one_closes(settings):
    settings.WS_MAX_CONNECTIONS_PER_CLIENT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    first, second, third = socket(), socket(), socket()
    assert (await first.connect())[0]
    assert (await second.connect())[0]
    # Accepted, told why, then closed with a code the page can act on.
    assert (await third.connect())[0]
    frame = await third.receive_json_from()
    assert frame["event"] == "error"
    assert frame["payload"]["error"] == "too_many_sockets"
    closed = await third.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4429
    assert closed["reason"]
    await first.disconnect()
    again = socket()
    assert (await again.connect())[0]
    await second.disconnect()
    await again.disconnect()


async def test_other_clients_are_not_held_back(settings):
    settings.WS_MAX_CONNECTIONS_PER_CLIENT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    mine, theirs = socket("198.51.100.7"), socket("203.0.113.9")
    assert (await mine.connect())[0]
    assert (await theirs.connect())[0]
    await mine.disconnect()
    await theirs.disconnect()


async def test_counts_are_keyed_by_hmac_and_expire(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    live = socket("198.51.100.7")
    assert (await live.connect())[0]
    conn = redis_utils.aclient()
    names = await conn.keys("nb:ws:conn:*")
    assert len(names) == 1
    assert b"198.51.100" not in names[0]
    assert 0 < await conn.ttl(names[0]) <= 3600
    assert await conn.get(names[0]) == b"1"
    await live.disconnect()
    assert await conn.get(names[0]) is None  # the last place given back takes the key


async def test_a_count_that_expired_while_its_socket_was_open_is_not_driven_negative(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    live = socket("198.51.100.7")
    assert (await live.connect())[0]
    conn = redis_utils.aclient()
    (name,) = await conn.keys("nb:ws:conn:*")
    await conn.delete(name)  # as its TTL would, under a socket open for hours
    await live.disconnect()
    assert await conn.keys("nb:ws:conn:*") == []  # not a -1 without a TTL


def scope(origin: str, host: str = "nullboard.example", scheme: str = "ws") -> dict:
    return {
        "type": "websocket",
        "scheme": scheme,
        "headers": [(b"origin", origin.encode()), (b"host", host.encode())],
    }


def test_the_origin_must_match_scheme_host_and_port(settings):
    from antispam.websocket import same_origin

    settings.HTTPS = False
    assert same_origin(scope("http://nullboard.example"))
    assert same_origin(scope("http://nullboard.example:80"))
    assert same_origin(scope("http://NullBoard.example"))
    assert same_origin(scope("http://nullboard.example:8000", host="nullboard.example:8000"))
    assert not same_origin(scope("http://nullboard.example:8001", host="nullboard.example:8000"))
    assert not same_origin(scope("https://nullboard.example"))
    assert not same_origin(scope("http://other.example"))
    assert not same_origin(scope("null"))
    assert not same_origin(scope(""))
    assert not same_origin(scope("http://nullboard.example\n"))


def test_under_https_the_site_is_https_even_behind_a_tls_proxy(settings):
    from antispam.websocket import same_origin

    settings.HTTPS = True
    assert same_origin(scope("https://nullboard.example"))  # TLS ended at the proxy: ws
    assert same_origin(scope("https://nullboard.example", scheme="wss"))
    assert not same_origin(scope("http://nullboard.example"))
    assert not same_origin(scope("https://nullboard.example:8443"))
