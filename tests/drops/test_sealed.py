"""Sealed at rest: a Redis dump plus the media folder reveal no message and no key."""

from __future__ import annotations

import re

from django.conf import settings

from nullboard import redis_utils
from tests.drops import samples
from tests.drops.helpers import SECRET_TEXT, create_text, create_voice


def _dump_everything() -> bytes:
    conn = redis_utils.client()
    out = []
    for name in conn.keys("nb:*"):
        out.append(name)
        out.append(conn.dump(name) or b"")
        kind = conn.type(name)
        if kind == b"hash":
            for field, value in conn.hgetall(name).items():
                out += [field, value]
        elif kind == b"string":
            out.append(conn.get(name))
        elif kind == b"zset":
            out += [member for member, _ in conn.zrange(name, 0, -1, withscores=True)]
    for path in settings.MEDIA_ROOT.rglob("*"):
        if path.is_file():
            out.append(path.name.encode())
            out.append(path.read_bytes())
    return b"\n".join(out)


def _forms(secret: str) -> list[bytes]:
    raw = secret.replace("-", "")
    return [secret.encode(), raw.encode(), raw.lower().encode(), raw[:12].encode()]


def test_nothing_stored_reveals_a_message_a_key_or_a_receipt(client):
    audio = samples.ogg(2)
    text_drop = create_text(client)
    voice_drop = create_voice(client, audio)
    # Half-spent drops too: used marks must not leak either.
    client.post(
        f"/api/drops/{text_drop['id']}/open",
        {"key": text_drop["keys"][0]},
        content_type="application/json",
    )
    opened = client.post(
        f"/api/drops/{voice_drop['id']}/open",
        {"key": voice_drop["keys"][2]},
        content_type="application/json",
    ).json()
    ticket = opened["audio_url"].rstrip("/").rsplit("/", 1)[1]
    everything = _dump_everything()
    assert b":ticket:" in everything
    assert ticket.encode() not in everything
    assert len(everything) > 1000
    assert SECRET_TEXT.encode() not in everything
    assert SECRET_TEXT[:16].encode() not in everything
    assert audio not in everything and b"OpusHead" not in everything
    for drop in (text_drop, voice_drop):
        for key in drop["keys"]:
            for form in _forms(key):
                assert form not in everything
        token = re.search(r"/receipt/([^/]+)$", drop["receipt_url"]).group(1)
        assert token.encode() not in everything


def test_every_key_the_drops_write_has_a_ttl(client):
    from tests.drops.helpers import open_drop

    text = create_text(client)
    voice = create_voice(client, samples.webm(2))
    open_drop(client, text["id"], "0000-0000-0000-0000-0000-0000-0000")
    open_drop(client, text["id"], text["keys"][0])
    open_drop(client, voice["id"], voice["keys"][0])
    conn = redis_utils.client()
    names = conn.keys("nb:drop*")
    assert len(names) >= 7  # drops, receipts, fails, ticket, index, media counter
    assert all(conn.ttl(name) > 0 for name in names), [(n, conn.ttl(n)) for n in names]
