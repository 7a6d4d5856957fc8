"""POST /api/drops/ID/open: exactly N views, one per key, then gone."""

from __future__ import annotations

import time_machine
from django.conf import settings

from drops import keys as drop_keys
from drops import media
from nullboard import redis_utils
from tests.drops.helpers import SECRET_TEXT, create_text, open_drop


def test_each_key_opens_the_drop_once_and_the_last_view_burns_it(client):
    drop = create_text(client)
    lefts = []
    for key in drop["keys"]:
        response = open_drop(client, drop["id"], key)
        assert response.status_code == 200
        data = response.json()
        assert data["kind"] == "text" and data["text"] == SECRET_TEXT
        lefts.append(data["views_left"])
    assert lefts == [2, 1, 0]
    assert redis_utils.client().exists(drop_keys.DROP(id=drop["id"])) == 0
    assert open_drop(client, drop["id"], drop["keys"][0]).status_code == 410


def test_a_used_key_is_refused_with_403(client):
    drop = create_text(client)
    assert open_drop(client, drop["id"], drop["keys"][1]).status_code == 200
    again = open_drop(client, drop["id"], drop["keys"][1])
    assert again.status_code == 403
    assert again.json()["error"] == "key_used"
    assert redis_utils.client().hget(drop_keys.DROP(id=drop["id"]), "views_left") == b"2"


def test_a_wrong_key_is_403_and_spends_nothing(client):
    drop = create_text(client)
    wrong = "0000-0000-0000-0000-0000-0000-0000"
    response = open_drop(client, drop["id"], wrong)
    assert response.status_code == 403
    assert response.json()["error"] == "wrong_key"
    assert open_drop(client, drop["id"], "not a key at all").status_code == 403
    assert redis_utils.client().hget(drop_keys.DROP(id=drop["id"]), "views_left") == b"3"


def test_keys_survive_retyping(client):
    drop = create_text(client)
    sloppy = " " + drop["keys"][0].replace("-", " ").lower().replace("0", "o") + " "
    assert open_drop(client, drop["id"], sloppy).status_code == 200


def test_a_one_view_drop_burns_on_its_first_view(client):
    drop = create_text(client, max_views=1)
    assert open_drop(client, drop["id"], drop["keys"][2]).json()["views_left"] == 0
    assert open_drop(client, drop["id"], drop["keys"][0]).status_code == 410


def test_the_last_view_deletes_the_qr_image_at_once(client):
    drop = create_text(client, max_views=1)
    qr = settings.MEDIA_ROOT / media.qr_name(drop["id"])
    assert qr.exists()
    open_drop(client, drop["id"], drop["keys"][0])
    assert not qr.exists()
    assert redis_utils.client().zscore(drop_keys.EXPIRY(), drop["id"]) is None


def test_it_is_gone_when_its_time_is_up(client):
    with time_machine.travel(1_900_000_000, tick=False):
        drop = create_text(client)
    with time_machine.travel(1_900_000_000 + settings.DROP_TTL_SECONDS, tick=False):
        response = open_drop(client, drop["id"], drop["keys"][0])
    assert response.status_code == 410


def test_it_opens_just_before_its_time_is_up(client):
    with time_machine.travel(1_900_000_000, tick=False):
        drop = create_text(client)
    with time_machine.travel(1_900_000_000 + settings.DROP_TTL_SECONDS - 1, tick=False):
        response = open_drop(client, drop["id"], drop["keys"][0])
    assert response.status_code == 200


def test_gone_expired_and_unknown_look_the_same(client):
    burned = create_text(client, max_views=1)
    open_drop(client, burned["id"], burned["keys"][0])
    with time_machine.travel(1_900_000_000, tick=False):
        expired = create_text(client)
    with time_machine.travel(1_900_000_000 + 3600, tick=False):
        answers = [
            open_drop(client, burned["id"], burned["keys"][1]),
            open_drop(client, expired["id"], expired["keys"][0]),
            open_drop(client, "AAAAAAAAAAAAAAAA", expired["keys"][0]),
            open_drop(client, "short", expired["keys"][0]),
        ]
    assert {a.status_code for a in answers} == {410}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["error"] == "gone"


def test_open_needs_a_key(client):
    drop = create_text(client)
    response = client.post(f"/api/drops/{drop['id']}/open", {}, content_type="application/json")
    assert response.status_code == 400
