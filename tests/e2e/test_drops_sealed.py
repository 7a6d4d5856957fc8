"""Drops sealed in the browser, in a real Chromium on a real daphne and Redis: the
shared vectors run against seal.js, nothing secret leaves the browser, drops made
either way open either way, passphrases, and a reader who is not cut short."""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
from pathlib import Path

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from tests.conftest import HttpClient, solve

pytestmark = pytest.mark.browser

VECTORS = json.loads((Path(__file__).parents[1] / "drops" / "vectors.json").read_text())
PHONE = {"width": 390, "height": 844}

# Record every raw AES key the page imports (data keys and wrapping keys), so the test
# can look for them in what the browser sends.
RECORD_KEYS = """
(() => {
  const bytes = (d) =>
    new Uint8Array(d.buffer ? d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) : d);
  const seen = (window.__rawKeys = []);
  const plain = (window.__plaintexts = []);
  const subtle = crypto.subtle;
  const importKey = subtle.importKey.bind(subtle);
  const encrypt = subtle.encrypt.bind(subtle);
  subtle.importKey = (format, data, algorithm, ...rest) => {
    if (format === "raw" && (algorithm === "AES-GCM" || algorithm?.name === "AES-GCM")) {
      seen.push(Array.from(bytes(data)));
    }
    return importKey(format, data, algorithm, ...rest);
  };
  subtle.encrypt = (algorithm, key, data) => {
    const all = bytes(data);
    if (all.length > 1000) plain.push(Array.from(all.slice(200, 264)));
    return encrypt(algorithm, key, data);
  };
})();
"""


def _api_drop(base_url: str, **fields) -> dict:
    """A server-sealed drop made by a program over HTTP (GET / for CSRF, then PoW)."""
    api = HttpClient(base_url)
    api.request("GET", "/")
    status, _, body = api.request("POST", "/api/session")
    assert status == 200, body
    session = json.loads(body)
    fields |= {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }
    status, _, body = api.request("POST", "/api/drops", fields)
    assert status == 201, body
    return json.loads(body)


def _share(page) -> tuple[str, list[str]]:
    page.wait_for_selector("#share:not([hidden])", timeout=30_000)
    link = page.input_value("[data-share-link]")
    keys = page.locator("[data-share-keys] code").all_inner_texts()
    assert len(keys) == 3
    return "/d/" + link.rsplit("/d/", 1)[1], keys


def _record(page, sent: list[str]) -> None:
    """Append every request's URL and body to ``sent``."""

    def on_request(request) -> None:
        sent.append(request.url)
        body = request.post_data_buffer
        if body:
            sent.append(body.decode("latin-1"))

    page.on("request", on_request)


def _forms(secret: str) -> list[str]:
    """The ways a secret could travel: as is, URL-encoded, in JSON, base64, hex."""
    raw = secret.encode()
    forms = {secret, json.dumps(secret)[1:-1], base64.b64encode(raw).decode(), raw.hex()}
    forms.add(secret.replace(" ", "+"))
    forms.add(secret.replace(" ", "%20"))
    return [f for f in forms if len(f) >= 8]


def _key_forms(key: str) -> list[str]:
    return _forms(key) + _forms(key.replace("-", ""))


def _byte_forms(data: bytes) -> list[str]:
    return [base64.b64encode(data).decode(), data.hex(), data.decode("latin-1")]


def _redis_dump() -> bytes:
    conn = redis.Redis.from_url(settings.REDIS_URL)
    dump = b""
    for name in conn.scan_iter("nb:drop*"):
        kind = conn.type(name)
        if kind == b"hash":
            for field, value in conn.hgetall(name).items():
                dump += field + b"\0" + value + b"\0"
        elif kind == b"string":
            dump += conn.get(name) or b""
        elif kind == b"zset":
            dump += b"\0".join(m for m, _ in conn.zrange(name, 0, -1, withscores=True))
    return dump


def _media_dump() -> bytes:
    root = Path(settings.MEDIA_ROOT)
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_the_shared_vectors_hold_in_chromium(new_page):
    page = new_page("/drops/new")
    results = page.evaluate(
        """async (vectors) => {
          const s = await import("/static/drops/seal.js");
          const out = [];
          for (const v of vectors) {
            const b = s.fromBase64;
            const passHash = await s.passphraseHash(v.passphrase, b(v.salt), v.iterations);
            const d = await s.derive(v.key, v.drop_id, b(v.salt), passHash);
            const wrapped = await s.dataKeyWrap(b(v.data_key), d.wrapKey, v.drop_id, b(v.wrap_iv));
            const sealed = await s.contentSeal(
              b(v.data_key), b(v.plaintext), v.drop_id, v.kind, b(v.content_iv));
            const opened = await s.dropOpen({ wrapKey: d.wrapKey, wrapped: v.wrapped,
              ciphertext: b(v.ciphertext), dropId: v.drop_id, kind: v.kind });
            out.push({ pass_hash: s.toBase64(passHash), wrap_key: s.toBase64(d.wrapKey),
              verifier: s.toBase64(d.verifier), wrapped: s.toBase64(wrapped),
              ciphertext: s.toBase64(sealed), plaintext: s.toBase64(opened) });
          }
          return out;
        }""",
        VECTORS["vectors"],
    )
    for vector, got in zip(VECTORS["vectors"], results, strict=True):
        for name in ("pass_hash", "wrap_key", "verifier", "wrapped", "ciphertext", "plaintext"):
            assert got[name] == vector[name], (vector["drop_id"], name)


def test_nothing_secret_leaves_the_browser_for_text_and_voice(new_page):
    """Record every request of a create and an open (text, then voice, both with a
    passphrase): no text, recording, key, passphrase or data key in any URL or body,
    and none in Redis or the media folder."""
    text = "the spare key is under the third flowerpot"
    passphrase = "violet harbour 1987"
    secrets: list[str] = _forms(text) + _forms(passphrase)
    sent: list[str] = []
    raw_keys: list[bytes] = []
    for kind in ("text", "voice"):
        writer = new_page(None)
        writer.add_init_script(RECORD_KEYS)
        _record(writer, sent)
        writer.goto("/drops/new")
        if kind == "voice":
            writer.click("#tab-voice")
            writer.click("#record")
            expect(writer.locator("#rec-clock")).to_have_text("0:01")  # a second recorded
            writer.click("#stop")
            writer.wait_for_selector("#preview:not([hidden])")
        else:
            writer.fill("#drop-text", text)
        writer.fill("#drop-passphrase", passphrase)
        writer.click("#create")
        path, keys = _share(writer)
        for key in keys:
            secrets += _key_forms(key)
        raw_keys += [bytes(k) for k in writer.evaluate("window.__rawKeys")]
        if kind == "voice":
            # 64 bytes from inside the recording, as the page encrypted it.
            recording = writer.evaluate("window.__plaintexts")
            assert recording
            secrets += _byte_forms(bytes(recording[-1]))

        reader = new_page(None)
        reader.add_init_script(RECORD_KEYS)
        _record(reader, sent)
        reader.goto(f"{path}#key={keys[0]}")
        reader.fill("#passphrase", passphrase)
        reader.click("#open-form button[type=submit]")
        reader.wait_for_selector("#opened:not([hidden])", timeout=30_000)
        if kind == "text":
            assert reader.inner_text("[data-message]") == text
        else:
            expect(reader.locator("[data-player]")).to_have_js_property("readyState", 4)
        raw_keys += [bytes(k) for k in reader.evaluate("window.__rawKeys")]
        assert "sealed in the sender's browser" in reader.inner_text("#opened").lower()
        assert writer.problems == [] and reader.problems == []

    assert len(raw_keys) >= 8  # data keys and wrapping keys were seen
    for data_key in raw_keys:
        secrets += _byte_forms(data_key)
    traffic = "\n".join(sent)
    assert "/api/drops" in traffic  # the recording did see the API calls
    leaks = [s for s in secrets if s in traffic]
    assert leaks == []
    at_rest = _redis_dump() + _media_dump()
    assert at_rest  # drops are stored
    leaks = [s for s in secrets if s.encode("latin-1", "replace") in at_rest]
    assert leaks == []


def test_a_browser_sealed_text_opens_without_javascript(new_page, browser, live_server_url):
    writer = new_page("/drops/new")
    writer.fill("#drop-text", "sealed here, read there")
    writer.click("#create")
    path, keys = _share(writer)
    context = browser.new_context(
        base_url=live_server_url, java_script_enabled=False, viewport=PHONE
    )
    try:
        reader = context.new_page()
        reader.goto(path)
        assert "sealed in the sender's browser" in reader.inner_text("main").lower()
        reader.fill("#key", keys[1])
        reader.click("#open-form button[type=submit]")
        assert reader.inner_text("[data-message]") == "sealed here, read there"
    finally:
        context.close()


def test_a_server_sealed_drop_opens_in_a_browser_with_javascript(new_page, live_server_url):
    made = _api_drop(live_server_url, text="made by a program")
    assert made["sealed"] == "server"
    reader = new_page(f"/d/{made['id']}#key={made['keys'][2]}")
    assert "sealed on the server" in reader.inner_text("main").lower()
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    assert reader.inner_text("[data-message]") == "made by a program"
    assert reader.problems == []


def test_a_wrong_passphrase_spends_nothing_and_the_right_one_opens(new_page):
    writer = new_page("/drops/new")
    writer.fill("#drop-text", "one view only")
    writer.fill("#drop-passphrase", "correct horse")
    writer.select_option("#drop-views", "1")
    writer.click("#create")
    path, keys = _share(writer)
    reader = new_page(f"{path}#key={keys[0]}")
    reader.set_viewport_size(PHONE)
    reader.fill("#passphrase", "correct hose")
    reader.click("#open-form button[type=submit]")
    expect(reader.locator("#open-status")).to_contain_text("does not open")
    # Still one view: the right passphrase with the same key opens it.
    reader.fill("#key", keys[0])
    reader.fill("#passphrase", "correct horse")
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    assert reader.inner_text("[data-message]") == "one view only"
    assert "burned" in reader.inner_text("[data-views-left]")
    assert [p for p in reader.problems if "status of 403" not in p] == []


def test_a_reader_who_opens_5_s_before_the_end_reads_for_30_s(new_page, live_server_url):
    made = _api_drop(live_server_url, text="hold on", ttl_seconds=8)
    reader = new_page(None)
    # The page's clock starts 5 s before the drop's end (the server's copy still
    # lives for a few real seconds) and is run forward: no waiting out real time.
    start = datetime.datetime.fromtimestamp(made["expires_at"] - 5, tz=datetime.UTC)
    reader.clock.install(time=start)
    reader.goto(f"/d/{made['id']}#key={made['keys'][0]}")
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    opened_at = reader.evaluate("Date.now() / 1000")
    assert made["expires_at"] - opened_at < 6  # opened in the drop's last seconds

    def message() -> str:
        return reader.inner_text("[data-message]")

    reader.clock.run_for(28_000)  # past the drop's own end, inside the 30 s hold
    assert message() == "hold on"
    for _ in range(40):  # the hold's end, a quarter second (the countdown's tick) at a time
        if "wiped" in message():
            break
        reader.clock.run_for(250)
    assert "wiped" in message()
    wiped_at = reader.evaluate("Date.now() / 1000")
    assert 29 <= wiped_at - opened_at <= 32, wiped_at - opened_at
    assert wiped_at > made["expires_at"] + 20  # well past the drop's own end


def test_close_wipes_at_once_and_copy_is_offered(new_page):
    writer = new_page("/drops/new")
    writer.fill("#drop-text", "copy me")
    writer.click("#create")
    path, keys = _share(writer)
    reader = new_page(f"{path}#key={keys[0]}")
    reader.click("#open-form button[type=submit]")
    reader.wait_for_selector("#opened:not([hidden])")
    expect(reader.locator("[data-copy-text]")).to_be_visible()
    reader.click("[data-close]")
    expect(reader.locator("[data-message]")).to_contain_text("wiped")
    assert reader.problems == []


def test_the_new_page_offers_every_life(new_page):
    page = new_page("/drops/new")
    labels = page.locator("#drop-life option").all_inner_texts()
    assert labels == ["30 seconds", "5 minutes", "1 hour", "1 day", "7 days"]
    assert page.locator("#drop-life option:checked").inner_text() == "30 seconds"
    assert re.search(r"sealed in your browser", page.inner_text("#drop-form"), re.I)


def test_the_readers_browser_refuses_a_sealed_file_that_is_not_a_recording(new_page):
    """The server cannot look inside a browser-sealed recording; the reader's page
    checks the container's magic bytes after decrypting, before playing."""
    from drops import sealing, services

    drop_id = sealing.b64encode(os.urandom(12)).replace("+", "-").replace("/", "_")
    sealed = sealing.drop_seal(drop_id=drop_id, kind="voice", plaintext=b"MZ\x90\x00" * 300)
    services.drop_store(
        link_base="http://testserver/d/",
        network="e2e",
        ttl_seconds=60,
        max_views=3,
        kind="voice",
        seal=services.SealInput(
            drop_id=drop_id,
            salt=sealed.salt,
            iterations=0,
            verifiers=[k.verifier for k in sealed.keys],
            wrapped=[k.wrapped for k in sealed.keys],
        ),
        ciphertext=sealed.ciphertext,
        mime="audio/webm",
    )
    key = sealing.access_key_display(sealed.access_keys[0])
    reader = new_page(f"/d/{drop_id}#key={key}")
    reader.click("#open-form button[type=submit]")
    expect(reader.locator("#open-status")).to_contain_text("not a recording")
    assert reader.locator("#opened").is_hidden()
