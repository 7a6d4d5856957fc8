"""The pages: a key form that works without JavaScript, and GETs that spend nothing."""

from __future__ import annotations

from django.test import Client

from drops import keys as drop_keys
from nullboard import redis_utils
from tests.drops import samples
from tests.drops.helpers import SECRET_TEXT, create_text, create_voice


def test_no_get_spends_a_view(client):
    drop = create_text(client)
    previewer = Client()
    for path in (f"/d/{drop['id']}", f"/d/{drop['id']}?key={drop['keys'][0]}", drop["qr_url"]):
        assert previewer.get(path).status_code == 200
        assert previewer.head(path).status_code == 200
    state = redis_utils.client().hgetall(drop_keys.DROP(id=drop["id"]))
    assert state[b"views_left"] == b"3"
    assert not any(field.startswith(b"u") for field in state)


def test_the_key_form_renders_without_the_message(client):
    drop = create_text(client)
    response = client.get(f"/d/{drop['id']}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="key"' in body and "csrfmiddlewaretoken" in body
    assert SECRET_TEXT not in body
    assert "text message" in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_posting_the_key_form_shows_the_text(client):
    drop = create_text(client)
    reader = Client(enforce_csrf_checks=True)
    reader.get(f"/d/{drop['id']}")
    token = reader.cookies["csrftoken"].value
    response = reader.post(
        f"/d/{drop['id']}", {"key": drop["keys"][0], "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert SECRET_TEXT in response.content.decode()
    assert "2 views left" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_key_form_escapes_the_text(client):
    drop = create_text(client, text="<script>alert(1)</script>")
    response = Client().post(f"/d/{drop['id']}", {"key": drop["keys"][0]})
    assert b"<script>alert(1)" not in response.content
    assert b"&lt;script&gt;alert(1)" in response.content


def test_the_key_form_says_when_a_key_is_wrong(client):
    drop = create_text(client)
    response = Client().post(f"/d/{drop['id']}", {"key": "nope"})
    assert response.status_code == 403
    assert b"does not open this drop" in response.content


def test_the_key_form_renders_a_player_for_voice(client):
    audio = samples.webm(2)
    drop = create_voice(client, audio)
    reader = Client()
    response = reader.post(f"/d/{drop['id']}", {"key": drop["keys"][0]})
    assert response.status_code == 200
    src = response.content.decode().split('src="/d/', 1)[1].split('"', 1)[0]
    stream = reader.get("/d/" + src)
    assert stream.status_code == 200 and stream.content == audio


def test_a_gone_drop_has_a_clear_page(client):
    drop = create_text(client, max_views=1)
    Client().post(f"/d/{drop['id']}", {"key": drop["keys"][0]})
    for response in (
        client.get(f"/d/{drop['id']}"),
        client.post(f"/d/{drop['id']}", {"key": drop["keys"][1]}),
        client.get("/d/nothing-here"),
    ):
        assert response.status_code == 410
        assert b"This drop is gone" in response.content
    assert client.get(drop["qr_url"]).status_code == 404


def test_the_opened_page_counts_down_and_has_no_inline_script(client):
    drop = create_text(client)
    response = Client().post(f"/d/{drop['id']}", {"key": drop["keys"][0]})
    body = response.content.decode()
    assert f'data-expires-at="{drop["expires_at"]}"' in body
    assert "<script>" not in body and "style=" not in body


def _csrf_reader(drop_id: str) -> tuple[Client, str]:
    reader = Client(enforce_csrf_checks=True)
    reader.get(f"/d/{drop_id}")
    return reader, reader.cookies["csrftoken"].value


def test_the_key_form_posts_from_a_no_referrer_page(client):
    # Browsers send "Origin: null" from no-referrer pages; Sec-Fetch-Site vouches.
    drop = create_text(client)
    reader, token = _csrf_reader(drop["id"])
    response = reader.post(
        f"/d/{drop['id']}",
        {"key": drop["keys"][0], "csrfmiddlewaretoken": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200


def test_a_cross_site_null_origin_post_is_refused(client):
    drop = create_text(client)
    reader, token = _csrf_reader(drop["id"])
    response = reader.post(
        f"/d/{drop['id']}",
        {"key": drop["keys"][0], "csrfmiddlewaretoken": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert redis_utils.client().hget(drop_keys.DROP(id=drop["id"]), "views_left") == b"3"
