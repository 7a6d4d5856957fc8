"""Issue 16 item 3: at Redis's memory edge (a throwaway ``redis-server --maxmemory 2mb
--maxmemory-policy noeviction``) a view, an audio ticket or a write is spent only when
the answer that delivers it succeeds: no half-spent key, no orphan file, no drifted
media counter, and an HTTP answer that is a 503, never a 500."""

from __future__ import annotations

import json
import os

import pytest
import redis
from django.conf import settings

from drops import keys as drop_keys
from drops import media, repository, sealing, services
from nullboard import redis_utils as nb_store
from tests.conftest import DaphneServer, HttpClient, RedisServer, solve
from tests.drops import samples

BASE = "http://testserver/d/"


def _fill(conn: redis.Redis) -> None:
    """Write until Redis refuses even a small write."""
    for size in (8192, 512, 16):
        while True:
            try:
                conn.set(f"filler:{os.urandom(8).hex()}", b"x" * size)
            except redis.exceptions.OutOfMemoryError:
                break


def _free(conn: redis.Redis) -> None:
    names = list(conn.scan_iter("filler:*"))
    conn.delete(*names[: max(1, len(names) // 4)])


@pytest.fixture
def full_redis(monkeypatch):
    """Point this process's store at a 2 MB noeviction Redis; ``fill()`` fills it."""
    server = RedisServer(args=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"])
    server.start()
    conn = redis.Redis(port=server.port, socket_timeout=5)
    monkeypatch.setattr(nb_store, "_client", conn)

    def fill() -> None:
        _fill(conn)

    def free() -> None:
        _free(conn)

    conn.fill = fill
    conn.free = free
    yield conn
    server.stop()


def _voice(max_views: int = 3) -> services.CreatedDrop:
    return services.drop_create(
        link_base=BASE,
        network="net",
        ttl_seconds=300,
        max_views=max_views,
        audio=samples.webm(3),
        mime="audio/webm",
    )


def _files() -> set[str]:
    root = settings.MEDIA_ROOT
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_voice_open_at_the_edge_spends_no_view(full_redis):
    drop = _voice()
    full_redis.fill()
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        services.drop_open_with_key(drop_id=drop.id, key=drop.keys[0], passphrase="", client="c")
    stored = full_redis.hgetall(drop_keys.DROP(id=drop.id))
    assert stored[b"views_left"] == b"3" and b"u1" not in stored
    assert not list(full_redis.scan_iter("nb:drop:*:ticket:*"))
    full_redis.free()
    opened = services.drop_open_with_key(
        drop_id=drop.id, key=drop.keys[0], passphrase="", client="c"
    )
    assert opened.views_left == 2 and opened.ticket


def test_the_last_audio_fetch_at_the_edge_delivers_the_audio(full_redis):
    drop = _voice(max_views=1)
    opened = services.drop_open_with_key(
        drop_id=drop.id, key=drop.keys[1], passphrase="", client="c"
    )
    counted = repository.media_bytes()
    full_redis.fill()
    audio, mime = services.audio_take(drop_id=drop.id, ticket=opened.ticket)
    assert audio == samples.webm(3) and mime == "audio/webm"
    assert media.voice_name(drop.id) not in _files()
    assert repository.media_bytes() == counted - len(samples.webm(3)) - sealing.SEAL_OVERHEAD


def test_a_write_at_the_edge_leaves_no_file_and_no_drifted_count(full_redis):
    _voice()
    files, counted = _files(), repository.media_bytes()
    full_redis.fill()
    for _ in range(5):
        with pytest.raises(redis.exceptions.RedisError):
            _voice()
    assert _files() == files
    assert repository.media_bytes() == counted


def test_a_wrong_key_at_the_edge_is_refused_without_a_half_count(full_redis):
    drop = _voice()
    full_redis.fill()
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        services.drop_open_with_key(drop_id=drop.id, key="0" * 28, passphrase="", client="c")
    assert not list(full_redis.scan_iter("nb:drop:*:fails*"))


def _pow(api: HttpClient) -> dict:
    status, _, body = api.request("POST", "/api/session")
    assert status == 200, body
    session = json.loads(body)
    return {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }


def test_over_http_the_edge_answers_503_never_500(tmp_path):
    server = RedisServer(args=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]).start()
    env = {
        "REDIS_URL": server.url,
        "MEDIA_ROOT": str(tmp_path),
        "RATE_LIMIT_MAX_REQUESTS": "100000",
        "POW_DIFFICULTY": "1",
    }
    web = DaphneServer(env=env).start()
    try:
        api = HttpClient(web.url)
        api.request("GET", "/")
        status, _, body = api.request("POST", "/api/drops", {"text": "edge", **_pow(api)})
        assert status == 201, body
        made = json.loads(body)
        fresh = _pow(api)
        conn = server.client()
        for path, payload in (
            (f"/api/drops/{made['id']}/open", {"key": made["keys"][0]}),
            ("/api/drops", {"text": "more", **fresh}),
        ):
            _fill(conn)  # top up right before: Redis frees a little now and then
            status, headers, body = api.request("POST", path, payload)
            assert status == 503, (path, status, body)
            assert json.loads(body)["error"] and headers["Retry-After"]
        conn.delete(*conn.scan_iter("filler:*"))
        open_path = f"/api/drops/{made['id']}/open"
        status, _, body = api.request("POST", open_path, {"key": made["keys"][0]})
        assert status == 200 and json.loads(body)["text"] == "edge"
        assert json.loads(body)["views_left"] == 2  # the refused open spent nothing
        assert {p.name for p in (tmp_path / "voice").glob("*")} == set()
    finally:
        printed = web.stop()
        server.stop()
    assert "Internal Server Error" not in printed and "Unhandled error" not in printed


def test_a_blip_between_reading_and_spending_a_ticket_keeps_the_file(monkeypatch):
    """Redis goes away after the last-view audio was read but before its ticket is
    spent: the answer is an outage (503 through the middleware), nothing is deleted."""
    server = RedisServer().start()
    monkeypatch.setattr(nb_store, "_client", redis.Redis(port=server.port, socket_timeout=2))
    try:
        drop = _voice(max_views=1)
        opened = services.drop_open_with_key(
            drop_id=drop.id, key=drop.keys[0], passphrase="", client="c"
        )
        read = media.voice_read

        def read_then_blip(*, drop_id: str) -> bytes | None:
            data = read(drop_id=drop_id)
            server.stop()  # the store goes away mid-request
            return data

        monkeypatch.setattr(media, "voice_read", read_then_blip)
        with pytest.raises(nb_store.OUTAGE_ERRORS):
            services.audio_take(drop_id=drop.id, ticket=opened.ticket)
        assert media.voice_name(drop.id) in _files()
    finally:
        server.stop()
