"""The creator's receipt: which keys were used and when, and burn now."""

from __future__ import annotations

import time_machine
from django.conf import settings
from django.test import Client

from drops import media
from tests.drops import samples
from tests.drops.helpers import create_text, create_voice, open_drop


def test_it_shows_which_keys_were_used_and_when(client):
    with time_machine.travel(1_900_000_000, tick=False):
        drop = create_text(client, ttl_seconds=300)
        open_drop(Client(), drop["id"], drop["keys"][1])
        response = client.get(drop["receipt_url"])
    assert response.status_code == 200
    body = response.content.decode()
    assert "Key 1:\n          not used" in body or "Key 1: not used" in " ".join(body.split())
    flat = " ".join(body.split())
    assert "Key 2: used at" in flat and "Key 3: not used" in flat
    assert 'datetime="2030-03-17T17:46:40+00:00"' in body
    for key in drop["keys"]:
        assert key not in body
    assert 'data-receipt-state="live"' in body


def test_it_still_tells_after_the_last_view(client):
    drop = create_text(client, max_views=1)
    open_drop(Client(), drop["id"], drop["keys"][2])
    flat = " ".join(client.get(drop["receipt_url"]).content.decode().split())
    assert 'data-receipt-state="burned"' in flat
    assert "Key 3: used at" in flat


def test_burn_now_deletes_the_drop_and_its_files(client):
    drop = create_voice(client, samples.webm(2))
    files = [settings.MEDIA_ROOT / name for name in media.drop_files(drop["id"])]
    assert all(path.exists() for path in files)
    response = client.post(drop["receipt_url"])
    assert response.status_code == 302
    assert not any(path.exists() for path in files)
    assert open_drop(Client(), drop["id"], drop["keys"][0]).status_code == 410
    assert b'data-receipt-state="burned"' in client.get(drop["receipt_url"]).content


def test_burn_now_needs_the_csrf_token(client):
    drop = create_text(client)
    owner = Client(enforce_csrf_checks=True)
    assert owner.post(drop["receipt_url"]).status_code == 403
    assert open_drop(Client(), drop["id"], drop["keys"][0]).status_code == 200


def test_a_wrong_receipt_token_shows_nothing_and_burns_nothing(client):
    drop = create_text(client)
    forged = drop["receipt_url"].rsplit("/", 1)[0] + "/" + "A" * 22
    assert client.get(forged).status_code == 410
    assert client.post(forged).status_code == 410
    assert open_drop(Client(), drop["id"], drop["keys"][0]).status_code == 200
