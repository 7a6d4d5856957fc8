"""The domain metrics move when what they count happens (nullboard/metrics.py)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from prometheus_client import REGISTRY

from drops import services as drops
from nullboard.asgi import application
from tests.boards.helpers import make_post


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def text_drop() -> drops.CreatedDrop:
    return drops.drop_create(
        link_base="http://testserver/d/", network="net", ttl_seconds=300, max_views=3, text="hi"
    )


def test_a_drop_is_counted_created_opened_and_burned_by_its_last_view():
    created = value("nullboard_drops_created_total", kind="text")
    opened = value("nullboard_drops_opened_total")
    burned = value("nullboard_drops_burned_total", reason="views")
    drop = text_drop()
    for key in drop.keys:
        drops.drop_open_with_key(drop_id=drop.id, key=key, passphrase="", client="c")
    assert value("nullboard_drops_created_total", kind="text") == created + 1
    assert value("nullboard_drops_opened_total") == opened + 3
    assert value("nullboard_drops_burned_total", reason="views") == burned + 1


def test_a_drop_burned_from_its_receipt_is_counted_once():
    burned = value("nullboard_drops_burned_total", reason="receipt")
    drop = text_drop()
    assert drops.drop_burn(drop_id=drop.id, receipt_token=drop.receipt_token)
    assert not drops.drop_burn(drop_id=drop.id, receipt_token=drop.receipt_token)
    assert value("nullboard_drops_burned_total", reason="receipt") == burned + 1


def test_the_proof_of_work_level_is_the_last_challenge_issued(client):
    assert client.post("/api/session").status_code == 200
    assert value("nullboard_pow_difficulty") == settings.POW_DIFFICULTY


async def test_live_sockets_and_events_are_counted():
    sockets = value("nullboard_live_sockets")
    published = value("nullboard_live_events_published_total")
    delivered = value("nullboard_live_events_delivered_total")
    communicator = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"http://testserver")]
    )
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()  # session:ready
    assert value("nullboard_live_sockets") == sockets + 1
    await communicator.send_json_to({"event": "topic:join", "payload": {"topic": "news"}})
    await communicator.receive_json_from()  # topic:joined
    await sync_to_async(make_post)(topic="news")
    assert (await communicator.receive_json_from())["event"] == "post:new"
    assert value("nullboard_live_events_published_total") >= published + 1
    assert value("nullboard_live_events_delivered_total") >= delivered + 1
    await communicator.disconnect()
    assert value("nullboard_live_sockets") == sockets
