"""The browser-sealed API: create with ciphertext, wrapped keys and verifiers; open with
a verifier. Python plays the browser here with the same format (drops.sealing), which
the shared vectors prove byte-compatible with static/drops/seal.js."""

from __future__ import annotations

import itertools
import json
import secrets
import types

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from drops import audio as drops_audio
from drops import keys as drop_keys
from drops import sealing, services
from nullboard import redis_utils
from tests.conftest import pow_fields
from tests.drops import samples
from tests.drops.helpers import create_text, crowd_open, open_drop


class Browser:
    """What new.js and open.js do, in Python: seal here, send only sealed parts."""

    def __init__(self, kind: str, plaintext: bytes, passphrase: str = "") -> None:
        self.drop_id = secrets.token_urlsafe(12)
        self.sealed = sealing.drop_seal(
            drop_id=self.drop_id, kind=kind, plaintext=plaintext, passphrase=passphrase
        )
        self.kind = kind

    @property
    def seal(self) -> dict:
        return {
            "v": 1,
            "id": self.drop_id,
            "salt": sealing.b64encode(self.sealed.salt),
            "iterations": self.sealed.iterations,
            "keys": [
                {"verifier": sealing.b64encode(k.verifier), "wrapped": sealing.b64encode(k.wrapped)}
                for k in self.sealed.keys
            ],
        }

    def create(self, client: Client, **extra):
        if self.kind == "text":
            body = {"seal": self.seal, "ciphertext": sealing.b64encode(self.sealed.ciphertext)}
            body |= pow_fields(client) | extra
            return client.post("/api/drops", body, content_type="application/json")
        upload = SimpleUploadedFile("voice.sealed", self.sealed.ciphertext)
        form = {"seal": json.dumps(self.seal), "ciphertext": upload, "mime": "audio/webm"}
        return client.post("/api/drops", form | pow_fields(client) | extra)

    def verifier(self, index: int, passphrase: str = "") -> str:
        pass_hash = sealing.passphrase_hash(passphrase, self.sealed.salt, self.sealed.iterations)
        derived = sealing.derive(
            key=self.sealed.access_keys[index],
            drop_id=self.drop_id,
            salt=self.sealed.salt,
            pass_hash=pass_hash,
        )
        return sealing.b64encode(derived.verifier)

    def open(self, client: Client, index: int, passphrase: str = ""):
        url = f"/api/drops/{self.drop_id}/open"
        body = {"verifier": self.verifier(index, passphrase)}
        return client.post(url, body, content_type="application/json")

    def decrypt(self, answer: dict, index: int, ciphertext: bytes | None = None) -> bytes:
        pass_hash = b""
        derived = sealing.derive(
            key=self.sealed.access_keys[index],
            drop_id=self.drop_id,
            salt=sealing.b64decode(answer["salt"]),
            pass_hash=pass_hash,
        )
        data_key = sealing.data_key_unwrap(
            sealing.b64decode(answer["wrapped"]), wrap_key=derived.wrap_key, drop_id=self.drop_id
        )
        blob = ciphertext if ciphertext is not None else sealing.b64decode(answer["ciphertext"])
        return sealing.content_open(data_key, blob, drop_id=self.drop_id, kind=self.kind)


def test_a_browser_sealed_text_is_stored_and_opened_by_verifier(client):
    browser = Browser("text", b"the courier wears green")
    response = browser.create(client)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["id"] == browser.drop_id and made["sealed"] == "browser"
    assert "keys" not in made  # the server never had them
    stored = redis_utils.client().hgetall(drop_keys.DROP(id=browser.drop_id))
    assert stored[b"by"] == b"browser" and stored[b"ct"] == browser.sealed.ciphertext
    opened = browser.open(client, 1)
    assert opened.status_code == 200
    answer = opened.json()
    assert answer["views_left"] == 2 and answer["sealed"] == "browser"
    assert "text" not in answer
    assert browser.decrypt(answer, 1) == b"the courier wears green"


def test_a_browser_sealed_drop_opens_with_the_key_on_the_server(client):
    browser = Browser("text", b"no script on this side")
    assert browser.create(client).status_code == 201
    key = sealing.access_key_display(browser.sealed.access_keys[2])
    response = open_drop(client, browser.drop_id, key)
    assert response.status_code == 200
    assert response.json()["text"] == "no script on this side"


def test_the_no_js_form_opens_a_browser_sealed_drop(client):
    browser = Browser("text", b"read without javascript")
    assert browser.create(client).status_code == 201
    page = client.get(f"/d/{browser.drop_id}")
    assert "Sealed in the sender's browser" in page.content.decode()
    key = sealing.access_key_display(browser.sealed.access_keys[0])
    response = client.post(f"/d/{browser.drop_id}", {"key": key})
    assert response.status_code == 200
    assert b"read without javascript" in response.content


def test_a_server_sealed_drop_opens_by_verifier(client):
    made = create_text(client, "made on the server")
    peek = client.get(f"/api/drops/{made['id']}").json()
    assert peek["sealed"] == "server" and peek["iterations"] == 0
    salt = sealing.b64decode(peek["salt"])
    key = sealing.access_key_normalize(made["keys"][0])
    derived = sealing.derive(key=key, drop_id=made["id"], salt=salt)
    body = {"verifier": sealing.b64encode(derived.verifier)}
    answer = client.post(f"/api/drops/{made['id']}/open", body, content_type="application/json")
    assert answer.status_code == 200
    data = answer.json()
    data_key = sealing.data_key_unwrap(
        sealing.b64decode(data["wrapped"]), wrap_key=derived.wrap_key, drop_id=made["id"]
    )
    text = sealing.content_open(
        data_key, sealing.b64decode(data["ciphertext"]), drop_id=made["id"], kind="text"
    )
    assert text == b"made on the server"


def test_peeking_never_spends_a_view(client):
    browser = Browser("text", b"x")
    browser.create(client)
    for _ in range(5):
        assert client.get(f"/api/drops/{browser.drop_id}").status_code == 200
        assert client.get(f"/d/{browser.drop_id}").status_code == 200
    assert client.get(f"/api/drops/{browser.drop_id}").json()["views_left"] == 3


def test_a_wrong_passphrase_spends_no_view_and_is_counted(client):
    browser = Browser("text", b"one view, passphrase", passphrase="correct horse")
    assert browser.create(client, max_views=1).status_code == 201
    wrong = browser.open(client, 0, passphrase="correct hose")
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_key"
    fails = redis_utils.client().get(drop_keys.FAILS_DROP(id=browser.drop_id))
    assert fails == b"1"
    right = browser.open(client, 0, passphrase="correct horse")
    assert right.status_code == 200 and right.json()["views_left"] == 0


def test_a_server_sealed_passphrase_drop_opens_only_with_it(client):
    made = create_text(client, "guarded", passphrase="blue folder", max_views=1)
    url = f"/api/drops/{made['id']}/open"
    wrong = client.post(
        url, {"key": made["keys"][0], "passphrase": "red folder"}, content_type="application/json"
    )
    assert wrong.status_code == 403
    assert client.get(f"/api/drops/{made['id']}").json()["views_left"] == 1
    right = client.post(
        url, {"key": made["keys"][0], "passphrase": "blue folder"}, content_type="application/json"
    )
    assert right.status_code == 200 and right.json()["text"] == "guarded"


def test_a_browser_sealed_voice_drop_streams_its_ciphertext_once(client):
    audio = samples.webm(3)
    browser = Browser("voice", audio)
    response = browser.create(client)
    assert response.status_code == 201, response.content
    answer = browser.open(client, 0).json()
    assert answer["kind"] == "voice" and answer["mime"] == "audio/webm"
    fetched = client.get(answer["audio_url"])
    assert fetched.status_code == 200 and fetched["Cache-Control"] == "no-store"
    assert browser.decrypt(answer, 0, ciphertext=fetched.content) == audio
    assert client.get(answer["audio_url"]).status_code == 410


def test_the_no_js_player_gets_a_browser_sealed_recording_decrypted_and_checked(client):
    audio = samples.ogg(3)
    browser = Browser("voice", audio)
    assert browser.create(client).status_code == 201
    key = sealing.access_key_display(browser.sealed.access_keys[0])
    page = client.post(f"/d/{browser.drop_id}", {"key": key})
    assert page.status_code == 200
    url = page.context["audio_url"]
    streamed = client.get(url)
    assert streamed.status_code == 200 and streamed.content == audio
    assert streamed["Content-Type"] == "audio/ogg"


def test_the_no_js_player_refuses_a_sealed_file_that_is_not_a_recording(client):
    browser = Browser("voice", b"MZ\x90\x00 not a recording at all" * 10)
    assert browser.create(client).status_code == 201
    key = sealing.access_key_display(browser.sealed.access_keys[0])
    url = client.post(f"/d/{browser.drop_id}", {"key": key}).context["audio_url"]
    assert client.get(url).status_code == 422
    # The ticket was not spent by the refusal.
    assert client.get(url).status_code == 422


def test_a_taken_id_is_refused(client):
    first = Browser("text", b"first")
    assert first.create(client).status_code == 201
    second = Browser("text", b"second")
    second.drop_id = first.drop_id
    second.sealed = sealing.drop_seal(drop_id=first.drop_id, kind="text", plaintext=b"second")
    response = second.create(client)
    assert response.status_code == 409 and response.json()["error"] == "id_taken"
    assert first.decrypt(first.open(client, 0).json(), 0) == b"first"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda s: s.update(id=s["id"] + "\n"), "'id'"),
        (lambda s: s.update(id="short"), "'id'"),
        (lambda s: s.update(v=2), "'v'"),
        (lambda s: s.update(iterations=1000), "'iterations'"),
        (lambda s: s.update(iterations=600000.0), "'iterations'"),
        (lambda s: s.update(iterations=True), "'iterations'"),
        (lambda s: s.update(v=1.0), "'v'"),
        (lambda s: s.update(salt="AAAA"), "16 bytes"),
        (lambda s: s["keys"].pop(), "'keys'"),
        (lambda s: s["keys"][0].update(verifier="not base64!"), "base64"),
    ],
)
def test_a_malformed_seal_is_refused_and_changes_nothing(client, change, needle):
    browser = Browser("text", b"x")
    seal = browser.seal
    change(seal)
    body = {"seal": seal, "ciphertext": sealing.b64encode(browser.sealed.ciphertext)}
    response = client.post("/api/drops", body | pow_fields(client), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_seal" and needle in response.json()["detail"]
    assert redis_utils.client().keys("nb:drop:*") == []


@override_settings(DROP_NETWORK_MAX_DROPS=2)
def test_one_network_has_a_quota_of_live_drops(client):
    create_text(client)
    create_text(client)
    response = client.post(
        "/api/drops", {"text": "third", **pow_fields(client)}, content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["error"] == "quota_exceeded"
    assert "live drops" in response.json()["detail"]
    other = Client(REMOTE_ADDR="203.0.113.20")
    assert create_text(other)["id"]  # another network is not affected


@override_settings(DROP_NETWORK_MAX_DROPS=1)
def test_burning_a_drop_gives_the_quota_back(client):
    made = create_text(client, max_views=1)
    assert open_drop(client, made["id"], made["keys"][0]).status_code == 200
    assert create_text(client)["id"]


def test_one_network_gets_only_its_share_of_media(client, settings):
    settings.DROP_NETWORK_MEDIA_BYTES = 3 * len(samples.webm(3)) // 2
    first = Browser("voice", samples.webm(3))
    assert first.create(client).status_code == 201
    second = Browser("voice", samples.webm(3))
    response = second.create(client)
    assert response.status_code == 429
    assert "share of voice storage" in response.json()["detail"]
    assert not (settings.MEDIA_ROOT / "voice" / f"{second.drop_id}.sealed").exists()
    assert redis_utils.client().exists(drop_keys.DROP(id=second.drop_id)) == 0


def test_proof_of_work_comes_before_any_audio_parsing(client):
    junk = SimpleUploadedFile("v.webm", b"ID3" + b"\x00" * 5000)
    response = client.post("/api/drops", {"audio": junk, "pow_challenge": "nope", "pow_nonce": "1"})
    # Refused by the proof-of-work check, not by the audio sniffer (which runs after).
    assert response.status_code == 403
    assert response.json()["error"] in ("no_session", "pow_insufficient")


def hostile_webm() -> bytes:
    """A real WebM header, then 2 MiB of empty Void elements."""
    return samples.webm(1)[:40] + b"\xec\x80" * (1024 * 1024 - 20)


def count_spends(monkeypatch) -> list:
    """Every unit of work the inspection spends, recorded as it goes."""
    spent = []
    real_spend = drops_audio._Budget.spend

    def spend(budget):
        spent.append(budget)
        real_spend(budget)

    monkeypatch.setattr(drops_audio._Budget, "spend", spend)
    return spent


def test_inspection_of_a_hostile_webm_is_bounded(monkeypatch):
    from drops.audio import AudioRejected, audio_inspect

    hostile = hostile_webm()
    # Bounded in work, counted rather than timed: a million elements, and the walk
    # stops one past the element cap (or sooner, at the time budget).
    spent = count_spends(monkeypatch)
    with pytest.raises(AudioRejected):
        audio_inspect(hostile)
    assert len(spent) <= drops_audio.MAX_ELEMENTS + 1 < len(hostile) // 2


def test_inspection_stops_at_its_time_budget_on_a_slow_machine(monkeypatch):
    """The time budget, on a pinned clock: each reading of it is a second later."""
    from drops.audio import AudioRejected, audio_inspect

    ticks = itertools.count()
    clock = types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    monkeypatch.setattr(drops_audio, "time", clock)
    spent = count_spends(monkeypatch)
    with pytest.raises(AudioRejected):
        audio_inspect(hostile_webm())
    assert len(spent) == 512  # the first time check, long before the element cap


def test_the_no_js_form_over_its_quota_answers_429_with_a_page(client):
    statuses = []
    for n in range(7):
        response = client.post("/drops/new", {"text": f"note {n}", "ttl_seconds": 30})
        statuses.append(response.status_code)
    assert statuses[:5] == [201] * 5
    assert statuses[5] == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    assert b"Wait ten minutes" in response.content


def test_the_no_js_form_takes_a_passphrase(client):
    response = client.post(
        "/drops/new", {"text": "form secret", "ttl_seconds": 30, "passphrase": "pp"}
    )
    assert response.status_code == 201
    drop = response.context["drop"]
    page = client.get(f"/d/{drop.id}")
    assert b'id="passphrase"' in page.content
    opened = client.post(f"/d/{drop.id}", {"key": drop.keys[0], "passphrase": "pp"})
    assert b"form secret" in opened.content


def test_fifty_parallel_verifier_opens_give_exactly_three_successes(client, real_redis):
    browser = Browser("text", b"exactly three")
    assert browser.create(client).status_code == 201
    verifiers = [sealing.b64decode(browser.verifier(i)) for i in range(3)]
    results = crowd_open(
        lambda n: services.drop_open(
            drop_id=browser.drop_id, verifier=verifiers[n % 3], client=f"c{n}"
        )
    )
    assert results.count("ok") == 3
    assert set(results) <= {"ok", "used", "gone"}
    assert real_redis.exists(drop_keys.DROP(id=browser.drop_id)) == 0


def test_a_browser_sealed_text_is_stored_on_the_event_loop(client, monkeypatch):
    """Rate limit, proof of work, claim and save through the loop's client: the sync
    client (and the worker thread it would need) is never asked."""
    browser = Browser("text", b"on the loop")
    body = {"seal": browser.seal, "ciphertext": sealing.b64encode(browser.sealed.ciphertext)}
    body |= pow_fields(client)
    store = redis_utils.client()

    def no_sync_client():
        raise AssertionError("a sync Redis call on the browser-sealed create path")

    monkeypatch.setattr(redis_utils, "client", no_sync_client)
    response = client.post("/api/drops", body, content_type="application/json")
    monkeypatch.undo()
    assert response.status_code == 201, response.content
    assert store.hget(drop_keys.DROP(id=browser.drop_id), "kind") == b"text"
    assert browser.decrypt(browser.open(client, 0).json(), 0) == b"on the loop"


def test_a_text_sealed_on_the_server_is_stored_on_the_event_loop(client, monkeypatch):
    fields = pow_fields(client)
    store = redis_utils.client()

    def no_sync_client():
        raise AssertionError("a sync Redis call on the server-sealed text path")

    monkeypatch.setattr(redis_utils, "client", no_sync_client)
    body = {"text": "sealed here, stored on the loop", **fields}
    response = client.post("/api/drops", body, content_type="application/json")
    monkeypatch.undo()
    assert response.status_code == 201, response.content
    created = response.json()
    assert store.hget(drop_keys.DROP(id=created["id"]), "by") == b"server"
    opened = open_drop(client, created["id"], created["keys"][0]).json()
    assert opened["text"] == "sealed here, stored on the loop"
