"""Voice drops: checked by bytes, size and duration, sealed on disk, streamed once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from drops import keys as drop_keys
from drops import media, sealing
from drops.audio import AudioRejected, audio_inspect
from nullboard import redis_utils
from tests.drops import samples
from tests.drops.helpers import create_voice, open_drop, post_voice


@pytest.mark.parametrize(
    ("data", "mime", "name"),
    [
        (samples.webm(3), "audio/webm", "v.webm"),
        (samples.ogg(3), "audio/ogg", "v.ogg"),
        (samples.mp4(3), "audio/mp4", "v.m4a"),
    ],
)
def test_it_accepts_webm_ogg_and_mp4(client, data, mime, name):
    drop = create_voice(client, data)
    assert drop["kind"] == "voice"
    assert redis_utils.client().hget(drop_keys.DROP(id=drop["id"]), "mime") == mime.encode()


def test_it_refuses_other_bytes_whatever_the_name(client):
    response = post_voice(client, b"ID3\x04" + b"\x00" * 500, name="voice.webm")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_audio"
    assert redis_utils.client().keys("nb:drop:*") == []


def test_it_refuses_webm_that_is_not_opus(client):
    response = post_voice(client, samples.webm(3, codec=b"V_VP8"))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "data", [samples.webm(61), samples.webm(75, stated=False), samples.ogg(62), samples.mp4(90)]
)
def test_it_refuses_recordings_longer_than_the_limit(client, data):
    response = post_voice(client, data)
    assert response.status_code == 400
    assert response.json()["error"] == "too_long"


def test_it_refuses_recordings_larger_than_the_limit(client):
    big = samples.webm(3) + b"\x00" * (settings.VOICE_MAX_BYTES + 1)
    response = post_voice(client, big)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not (settings.MEDIA_ROOT / "voice").exists()


def test_it_refuses_a_recording_just_over_the_limit(client):
    data = samples.webm(3)
    data += b"\x00" * (settings.VOICE_MAX_BYTES + 1 - len(data))
    response = post_voice(client, data)
    assert response.status_code == 413
    assert redis_utils.client().keys("nb:drop:*") == []


def test_it_refuses_text_and_audio_together(client):
    response = post_voice(client, samples.webm(3), text="hello")
    assert response.status_code == 400


def test_new_voice_drops_get_503_past_the_media_cap(client):
    with override_settings(MEDIA_MAX_BYTES=100):
        response = post_voice(client, samples.webm(3))
    assert response.status_code == 503
    assert response.json()["error"] == "media_full"
    assert redis_utils.client().keys("nb:drop:*") == []


def test_the_voice_file_is_sealed_on_disk(client):
    audio = samples.ogg(3)
    drop = create_voice(client, audio)
    stored = (settings.MEDIA_ROOT / media.voice_name(drop["id"])).read_bytes()
    assert audio not in stored and b"OpusHead" not in stored and b"OggS" not in stored
    assert len(stored) == len(audio) + sealing.SEAL_OVERHEAD  # version, iv and tag


def test_opening_gives_a_single_use_audio_url(client):
    audio = samples.webm(3)
    drop = create_voice(client, audio)
    response = open_drop(client, drop["id"], drop["keys"][0])
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "voice" and data["views_left"] == 2
    stream = client.get(data["audio_url"])
    assert stream.status_code == 200
    assert stream.content == audio
    assert stream["Content-Type"] == "audio/webm"
    assert stream["Cache-Control"] == "no-store"
    assert client.get(data["audio_url"]).status_code == 410


def test_the_audio_url_expires_within_a_minute(client):
    drop = create_voice(client, samples.webm(3))
    open_drop(client, drop["id"], drop["keys"][0])
    tickets = redis_utils.client().keys("nb:drop:*:ticket:*")
    assert len(tickets) == 1
    assert 0 < redis_utils.client().ttl(tickets[0]) <= 60


def test_a_forged_audio_url_is_gone(client):
    drop = create_voice(client, samples.webm(3))
    assert client.get(f"/d/{drop['id']}/audio/{'A' * 32}").status_code == 410


def test_the_last_view_removes_the_voice_file_once_streamed(client):
    drop = create_voice(client, samples.webm(3), max_views=1)
    path = settings.MEDIA_ROOT / media.voice_name(drop["id"])
    data = open_drop(client, drop["id"], drop["keys"][0]).json()
    assert data["views_left"] == 0
    assert not (settings.MEDIA_ROOT / media.qr_name(drop["id"])).exists()
    assert path.exists()  # it still has to play once
    assert client.get(data["audio_url"]).status_code == 200
    assert not path.exists()
    assert redis_utils.client().zscore(drop_keys.EXPIRY(), drop["id"]) is None


def test_the_media_counter_follows_the_files(client):
    drop = create_voice(client, samples.webm(3), max_views=1)
    on_disk = sum(p.stat().st_size for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    assert int(redis_utils.client().get(drop_keys.MEDIA_BYTES())) == on_disk
    data = open_drop(client, drop["id"], drop["keys"][0]).json()
    client.get(data["audio_url"])
    assert int(redis_utils.client().get(drop_keys.MEDIA_BYTES())) == 0


def test_the_sniffer_reads_stated_and_implied_durations():
    assert audio_inspect(samples.webm(12.5)).seconds == pytest.approx(12.5)
    assert audio_inspect(samples.webm(20, stated=False)).seconds == pytest.approx(20)
    assert audio_inspect(samples.ogg(3.2)).seconds == pytest.approx(3.2)
    assert audio_inspect(samples.mp4(7)).seconds == pytest.approx(7)
    with pytest.raises(AudioRejected):
        audio_inspect(b"\x1a\x45\xdf\xa3" + b"\xff" * 10)
    with pytest.raises(AudioRejected):
        audio_inspect(b"OggS" + b"\x00" * 60)


def test_it_refuses_an_oversized_body_before_reading_it(client):
    big = samples.webm(3) + b"\x00" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = post_voice(client, big)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
