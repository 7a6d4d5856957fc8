"""``purge`` and ``stats``: every app's keys and files, files through the storage API.

The tests own their storage: a second backend (a FileSystemStorage subclass) at a
temporary location of their own, so no other test's files count, and MEDIA_ROOT
shows that nothing goes around the storage.
"""

import json
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command

from boards import keys
from boards import services as boards
from drops import services as drops
from moderation.repository import flag_key
from nullboard import redis_utils
from tests.boards.helpers import keys_matching
from tests.moderation.conftest import blob, flag, visitor


class OtherStorage(FileSystemStorage):
    """A second storage backend, somewhere else than MEDIA_ROOT."""


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def storage(settings, tmp_path):
    """Drops (and so purge and stats) on OtherStorage at a location of the test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{__name__}.OtherStorage",
            "OPTIONS": {"location": str(tmp_path / "other")},
        },
    }
    return default_storage


@pytest.fixture
def post():
    return boards.post_create(topic="news", blob=blob(), author="test-author-1000")


@pytest.fixture
def comment(post):
    return boards.comment_create(post_id=post["id"], blob=blob(), author="test-author-1001")


def a_drop() -> drops.CreatedDrop:
    return drops.drop_create(
        link_base="https://nullboard.test", network="test", ttl_seconds=600, max_views=3, text="hi"
    )


def test_the_storage_is_the_second_backend(storage, tmp_path):
    drop = a_drop()
    assert type(storage._wrapped).__name__ == "OtherStorage"
    assert (tmp_path / "other" / "qr" / f"{drop.id}.svg").is_file()


def test_purge_refuses_without_yes(post):
    with pytest.raises(CommandError, match="--yes"):
        run("purge")
    assert redis_utils.client().exists(keys.post_key(post["id"]))


def test_purge_burns_every_key_and_media_file(post, storage, settings, tmp_path):
    storage.save("voice/x.bin", ContentFile(b"sealed"))
    drop = a_drop()  # its QR image, through the storage
    qr_bytes = storage.size(f"qr/{drop.id}.svg")
    outside = settings.MEDIA_ROOT / "voice" / "not-in-the-storage.bin"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_bytes(b"elsewhere")
    redis_utils.client().set("unrelated:key", "stays", ex=60)  # not ours: left alone
    out = run("purge", "--yes")
    assert "Purged" in out and f"2 media files ({6 + qr_bytes:,} bytes)" in out
    assert keys_matching("nb:*") == []
    assert redis_utils.client().get("unrelated:key") == b"stays"
    assert [p for p in (tmp_path / "other").rglob("*") if p.is_file()] == []
    assert outside.read_bytes() == b"elsewhere"  # another storage's file: not this site's
    outside.unlink()


def test_purge_with_nothing_stored_says_so(storage):
    assert "Purged 0 keys and 0 media files (0 bytes)." in run("purge", "--yes")


def test_stats_counts_live_things(post, comment, storage, settings):
    settings.FLAG_HIDE_THRESHOLD = 1
    flag(visitor(), "comment", comment["id"])
    storage.save("voice/x.bin", ContentFile(b"sealed"))
    counts = json.loads(run("stats", "--json"))
    assert counts["posts"] == 1
    assert counts["comments"] == 1
    assert counts["sessions"] == 1
    assert counts["flags"] == 1
    assert counts["hidden"] == 1
    assert (counts["media_files"], counts["media_bytes"]) == (1, 6)
    assert counts["redis_memory_bytes"] > 0
    text = run("stats")
    assert "posts" in text and "redis memory bytes" in text


def test_stats_counts_drops_and_their_files(storage):
    drop = a_drop()
    counts = json.loads(run("stats", "--json"))
    assert counts["drops"] == 1
    assert counts["media_files"] == 1
    assert counts["media_bytes"] == storage.size(f"qr/{drop.id}.svg")


def test_stats_patterns_match_whole_keys(post):
    """A key with a trailing newline is not a post (``$`` would have let it count)."""
    redis_utils.client().set(keys.post_key(post["id"]) + "\n", "x", ex=60)
    redis_utils.client().set(flag_key("post", post["id"]) + "\n", "x", ex=60)
    counts = json.loads(run("stats", "--json"))
    assert (counts["posts"], counts["flags"]) == (1, 0)
