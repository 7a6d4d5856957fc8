"""One definition per record: the spec, the Redis hash and the JSON agree with it."""

import json

import pytest
import yaml

from boards import keys, records, selectors, services
from drops import keys as drop_keys
from moderation import keys as moderation_keys
from nullboard import keys as site_keys
from nullboard import redis_utils
from tests.conftest import ROOT
from tests.moderation.conftest import blob

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())["components"]["schemas"]


@pytest.mark.parametrize(
    ("schema", "record"), [("Post", records.POST), ("Comment", records.COMMENT)]
)
def test_the_spec_lists_exactly_the_record_fields(schema, record):
    spec = SPEC[schema]
    assert list(spec["properties"]) == list(record.fields)
    one_of = [name for option in spec.get("oneOf", []) for name in option["required"]]
    assert one_of == list(record.one_of)
    properties = spec["properties"].items()
    integers = {
        name for name, value in properties if "UnixTime" in str(value) or "integer" in str(value)
    }
    assert integers == record.integers


def test_a_post_hash_holds_the_record_fields_and_nothing_more():
    post = services.post_create(topic="news", blob=blob(), author="test-author-1000")
    stored = redis_utils.client().hgetall(keys.post_key(post["id"]))
    assert sorted(name.decode() for name in stored) == sorted(
        name for name in records.POST.stored if name != "room"
    )
    assert records.POST.from_hash({**stored, "comment_count": 0}) == post


def test_a_comment_hash_holds_the_record_fields_and_nothing_more():
    post = services.post_create(topic="news", blob=blob(), author="test-author-1000")
    comment = services.comment_create(post_id=post["id"], blob=blob(), author="test-author-1001")
    stored = redis_utils.client().hgetall(keys.comment_key(comment["id"]))
    assert sorted(name.decode() for name in stored) == sorted(records.COMMENT.stored)
    assert selectors.comment_get(comment_id=comment["id"]) == comment


def test_a_row_as_json_bytes_is_what_json_dumps_writes():
    row = [b"0123456789abcdef", b"", b"r" * 22, b"a-b-1", b"AQ==", b"1", b"2", b"30", 4]
    assert records.POST.row_json(row) == json.dumps(records.POST.from_row(row)).encode()
    assert records.POST.row_json([*row[:4], b"\xff", *row[5:]]) is None  # needs escaping


def test_a_record_must_give_every_field_on_read():
    with pytest.raises(ValueError, match="every field"):
        records.Record(shape=records.Comment, stored=("id", "post"))


def _formats():
    for module in (keys, drop_keys, moderation_keys, site_keys):
        for name, value in vars(module).items():
            if isinstance(value, redis_utils.KeyFormat):
                yield f"{module.__name__}.{name}", value


SAMPLES = {
    "tag": "0123",
    "post": "0123456789abcdef",
    "comment": "0123456789abcdef",
    "item": "0123456789abcdef",
    "kind": "post",
    "topic": "news",
    "room": "A" * 22,
    "id": "B" * 16,
    "client": "0a1b",
    "network": "0a1b",
    "hash": "0a1b",
    "version": "1",
    "session": "abc123",
}


@pytest.mark.parametrize(("name", "key_format"), list(_formats()))
def test_every_key_format_builds_keys_its_pattern_matches(name, key_format):
    parts = {part: SAMPLES[part] for part in redis_utils._PART.findall(key_format.template)}
    built = key_format(**parts)
    assert built.startswith(redis_utils.PREFIX)
    assert key_format.matches(built)
    assert not key_format.matches(built + "\n")
    assert key_format.glob.startswith(redis_utils.PREFIX)


def test_a_key_format_needs_a_pattern_for_each_part():
    with pytest.raises(ValueError, match="pattern"):
        redis_utils.KeyFormat("post:{post}")
