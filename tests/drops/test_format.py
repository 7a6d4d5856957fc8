"""The drop format v1 in Python: the shared vectors (tests/drops/vectors.json, also
run in Chromium against static/drops/seal.js), round trips, and strict shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drops import media, sealing, services

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text())["vectors"]
b64 = sealing.b64decode


@pytest.mark.parametrize("vector", VECTORS, ids=[v["drop_id"] for v in VECTORS])
def test_the_python_side_matches_the_shared_vectors(vector):
    salt, data_key = b64(vector["salt"]), b64(vector["data_key"])
    pass_hash = sealing.passphrase_hash(vector["passphrase"], salt, vector["iterations"])
    assert pass_hash == b64(vector["pass_hash"])
    derived = sealing.derive(
        key=vector["key"], drop_id=vector["drop_id"], salt=salt, pass_hash=pass_hash
    )
    assert derived.wrap_key == b64(vector["wrap_key"])
    assert derived.verifier == b64(vector["verifier"])
    aad = sealing._aad
    wrapped = sealing.aead_seal(
        derived.wrap_key, data_key, aad("key", vector["drop_id"]), b64(vector["wrap_iv"])
    )
    assert wrapped == b64(vector["wrapped"])
    plaintext = b64(vector["plaintext"])
    sealed = sealing.aead_seal(
        data_key, plaintext, aad(vector["kind"], vector["drop_id"]), b64(vector["content_iv"])
    )
    assert sealed == b64(vector["ciphertext"])
    # And the other way: what the vector holds opens with the key alone.
    unwrapped = sealing.data_key_unwrap(
        b64(vector["wrapped"]), wrap_key=derived.wrap_key, drop_id=vector["drop_id"]
    )
    opened = sealing.content_open(
        unwrapped, b64(vector["ciphertext"]), drop_id=vector["drop_id"], kind=vector["kind"]
    )
    assert opened == plaintext


def test_the_vectors_cover_a_passphrase_and_voice():
    assert any(v["iterations"] == sealing.PASSPHRASE_ITERATIONS for v in VECTORS)
    assert any(v["kind"] == "voice" for v in VECTORS)


def test_a_server_sealed_drop_opens_with_each_of_its_keys():
    drop_id = "A" * 16
    sealed = sealing.drop_seal(drop_id=drop_id, kind="text", plaintext=b"hello", passphrase="")
    for key, kept in zip(sealed.access_keys, sealed.keys, strict=True):
        derived = sealing.derive(key=key, drop_id=drop_id, salt=sealed.salt)
        assert derived.verifier == kept.verifier
        data_key = sealing.data_key_unwrap(kept.wrapped, wrap_key=derived.wrap_key, drop_id=drop_id)
        opened = sealing.content_open(data_key, sealed.ciphertext, drop_id=drop_id, kind="text")
        assert opened == b"hello"


def test_a_wrong_passphrase_gives_another_verifier():
    salt = bytes(16)
    right = sealing.passphrase_hash("blue folder", salt, 1000)
    wrong = sealing.passphrase_hash("blue-folder", salt, 1000)
    key = sealing.access_key_generate()
    one = sealing.derive(key=key, drop_id="B" * 16, salt=salt, pass_hash=right)
    two = sealing.derive(key=key, drop_id="B" * 16, salt=salt, pass_hash=wrong)
    assert one.verifier != two.verifier and one.wrap_key != two.wrap_key


def test_the_verifier_and_wrapping_key_are_independent():
    derived = sealing.derive(key=sealing.access_key_generate(), drop_id="C" * 16, salt=bytes(16))
    assert derived.verifier != derived.wrap_key


def test_content_is_bound_to_its_drop_and_kind():
    data_key = bytes(32)
    blob = sealing.content_seal(data_key, b"x", drop_id="D" * 16, kind="text")
    with pytest.raises(sealing.SealError):
        sealing.content_open(data_key, blob, drop_id="E" * 16, kind="text")
    with pytest.raises(sealing.SealError):
        sealing.content_open(data_key, blob, drop_id="D" * 16, kind="voice")


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        (services.DROP_ID, "AbCdEfGhIjKlMn0_"),
        (media.DROP_ID, "AbCdEfGhIjKlMn0_"),
        (services.TICKET, "a" * 32),
        (services.RECEIPT, "b" * 22),
    ],
)
def test_every_pattern_refuses_a_trailing_newline(pattern, good):
    assert pattern.fullmatch(good)
    assert not pattern.fullmatch(good + "\n")


def test_a_key_with_a_trailing_newline_inside_is_still_checked_whole():
    key = sealing.access_key_generate()
    assert sealing.access_key_normalize(key + "\n") == key  # whitespace is stripped
    assert sealing.access_key_normalize(key + "\nX") is None


def test_base64_fields_are_strict():
    assert sealing.b64decode("AAAA") == b"\x00\x00\x00"
    for bad in ("AAAA\n", "AA=A", "AAA", "AA-A", 12, None):
        with pytest.raises(ValueError):
            sealing.b64decode(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sealing.b64decode("AAAA", size=4)


def test_access_keys_are_canonical_and_use_every_symbol_at_every_position():
    keys = [sealing.access_key_generate() for _ in range(2000)]
    assert all(sealing.access_key_normalize(key) == key for key in keys)
    assert len(set(keys)) == len(keys)
    # 2,000 keys: a symbol missing from a position happens with odds about 32 * e**-62.
    for position in (0, sealing.KEY_CHARS // 2, sealing.KEY_CHARS - 1):
        assert {key[position] for key in keys} == set(sealing.ALPHABET)
