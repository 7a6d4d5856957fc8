"""Redis Cluster slots: what shares a slot, the home feed read per slot, and writes
made of single-slot steps that a crash may cut short (boards.services)."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from boards import keys, records, selectors, services
from moderation import repository
from nullboard import cluster, redis_utils

from .helpers import blob, make_comment, make_post

TOPICS = ["news", "science", "music", "art"]


def slot(name: str) -> int:
    return key_slot(name.encode())


def home_ids_one_call(**page) -> tuple[list[str], str | None]:
    """A home page in one script call (a single server only)."""
    rows, cursor = selectors._feed_page(*selectors._feed_args(topic=None, room=None, **page))
    return _shaped(rows, cursor or None)


def home_ids_per_slot(**page) -> tuple[list[str], str | None]:
    """A home page as a cluster reads it: ids, then one call per slot tag."""
    return _shaped(*selectors._run(selectors._home_walk(**page)))


def _shaped(rows, cursor) -> tuple[list[str], str | None]:
    return [records.POST.from_row(row)["id"] for row in rows], cursor and records.text(cursor)


# Each way of reading the home feed this store allows.
HOME_READS = [home_ids_per_slot] + ([] if cluster.enabled() else [home_ids_one_call])


def topic_ids(topic: str) -> list[str]:
    return [records.POST.from_row(row)["id"] for row in selectors.feed_rows(topic=topic)[0]]


def home_walk(read) -> list[str]:
    seen, cursor = [], None
    while True:
        ids, cursor = read(cursor=cursor, after=None)
        seen += ids
        if cursor is None:
            return seen


def test_a_topic_post_its_comments_and_flags_share_the_topic_feeds_slot():
    post = make_post(topic="science")
    comment = make_comment(post["id"])
    tag = keys.feed_tag(topic="science")
    assert post["id"].startswith(tag) and comment["id"].startswith(tag)
    names = [
        keys.feed_key(topic="science"),
        keys.post_key(post["id"]),
        keys.post_comments_key(post["id"]),
        keys.post_hidden_comments_key(post["id"]),
        keys.comment_key(comment["id"]),
        keys.seq_key(comment["id"]),
        repository.flag_key("post", post["id"]),
        repository.voters_key("comment", comment["id"]),
    ]
    assert {slot(name) for name in names} == {slot(keys.feed_key(topic="science"))}
    assert redis_utils.client().exists(*names[:3], names[4]) == 4


def test_a_room_post_and_its_comments_share_the_rooms_slot():
    room = services.room_create()["room"]
    post = make_post(room=room)
    comment = make_comment(post["id"])
    names = [
        keys.room_key(room),
        keys.feed_key(room=room),
        keys.post_key(post["id"]),
        keys.comment_key(comment["id"]),
    ]
    assert {slot(name) for name in names} == {slot(keys.room_key(room))}
    assert keys.feed_tag(room=room) != keys.feed_tag(topic=room.lower()[:8])


def test_new_ids_are_the_feeds_tag_and_48_random_bits():
    ids = {keys.new_item_id("ab12") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(item_id) == 16 and item_id.startswith("ab12") for item_id in ids)


@pytest.mark.parametrize("read", HOME_READS)
def test_the_home_feed_reads_alike_per_slot_and_in_one_call(read, time_machine):
    time_machine.move_to(1_900_000_000, tick=True)
    posts = [make_post(topic=TOPICS[index % len(TOPICS)]) for index in range(47)]
    services.post_hide(post_id=posts[5]["id"])
    services.post_remove(post_id=posts[30]["id"])
    redis_utils.client().delete(keys.post_key(posts[12]["id"]))  # expired under the feed
    gone = {posts[5]["id"], posts[30]["id"], posts[12]["id"]}
    expected = [post["id"] for post in reversed(posts) if post["id"] not in gone]
    assert home_walk(read) == expected
    # The expired post's entry stays while it could be a post being written...
    assert redis_utils.client().zscore(keys.feed_key(), posts[12]["id"]) is not None
    time_machine.move_to(1_900_000_000 + selectors.SETTLE_SECONDS + 1, tick=False)
    assert home_walk(read) == expected
    # ...then the read prunes it as it goes by.
    assert redis_utils.client().zscore(keys.feed_key(), posts[12]["id"]) is None


@pytest.mark.parametrize("read", HOME_READS)
def test_a_page_full_after_skipping_dead_entries_still_says_there_is_more(read):
    posts = [make_post(topic=TOPICS[index % len(TOPICS)]) for index in range(25)]
    services.post_hide(post_id=posts[-3]["id"])  # inside the first page's read
    ids, cursor = read(cursor=None, after=None)
    assert len(ids) == selectors.PAGE_SIZE
    assert cursor is not None
    assert read(cursor=cursor, after=None)[0] == [post["id"] for post in posts[:4]][::-1]


@pytest.mark.parametrize("read", HOME_READS)
def test_a_home_catch_up_gives_only_newer_posts(read):
    old = [make_post(topic=TOPICS[index % len(TOPICS)]) for index in range(3)]
    new = [make_post(topic=TOPICS[index % len(TOPICS)]) for index in range(3)]
    ids, cursor = read(cursor=None, after=old[-1]["cursor"])
    assert ids == [post["id"] for post in reversed(new)]
    assert cursor is None


@pytest.mark.parametrize("read", HOME_READS)
def test_a_post_create_cut_short_after_its_home_entry_shows_nothing(read, time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    shown = make_post(topic="news")
    # Step 1 of a post create, then the process dies: an entry with no post.
    orphan = keys.new_item_id(keys.feed_tag(topic="news"))
    now_ms = 1_900_000_000_000
    services._home_entry(orphan, now_ms=now_ms, cutoff=keys.score_floor(1_900_000_000, 60))
    assert read(cursor=None, after=None) == ([shown["id"]], None)
    assert selectors.post_get(post_id=orphan) is None
    # While it may still be a post being written, readers leave the entry alone...
    assert redis_utils.client().zscore(keys.feed_key(), orphan) is not None
    # ...and once it has settled, the first read prunes it.
    time_machine.move_to(1_900_000_000 + selectors.SETTLE_SECONDS + 1, tick=False)
    assert read(cursor=None, after=None) == ([shown["id"]], None)
    assert redis_utils.client().zscore(keys.feed_key(), orphan) is None
    # The client's retry is a whole new post, on both feeds.
    retry = make_post(topic="news")
    assert read(cursor=None, after=None)[0] == [retry["id"], shown["id"]]
    assert topic_ids("news") == [retry["id"], shown["id"]]


@pytest.mark.parametrize("read", HOME_READS)
def test_a_hide_cut_short_before_the_home_step_shows_nothing_and_a_retry_completes(
    read, monkeypatch
):
    post, other = make_post(topic="news"), make_post(topic="music")
    with monkeypatch.context() as patched:
        patched.setattr(services, "_home_drop", lambda post_id, where: None)  # dies here
        assert services.post_hide(post_id=post["id"])
    assert redis_utils.client().zscore(keys.feed_key(), post["id"]) is not None
    assert read(cursor=None, after=None)[0] == [other["id"]]
    assert selectors.feed_rows(topic="news")[0] == []
    # The retry finds it hidden already (nothing more to count), and takes it off home.
    assert services.post_hide(post_id=post["id"]) is False
    assert redis_utils.client().zscore(keys.feed_key(), post["id"]) is None


class Crash(Exception):
    pass


@pytest.mark.parametrize("read", HOME_READS)
def test_a_restore_cut_short_after_the_home_entry_shows_nothing_and_a_retry_completes(
    read, monkeypatch
):
    post, other = make_post(topic="news"), make_post(topic="music")
    assert services.post_hide(post_id=post["id"])

    def dies(*args, **kwargs):
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(services, "_post_unhide", dies)
        with pytest.raises(Crash):
            services.post_unhide(post_id=post["id"])
    # The home entry is back, the post still hidden: readers skip it and keep it.
    assert redis_utils.client().zscore(keys.feed_key(), post["id"]) is not None
    assert read(cursor=None, after=None)[0] == [other["id"]]
    assert redis_utils.client().zscore(keys.feed_key(), post["id"]) is not None
    assert selectors.feed_rows(topic="news")[0] == []
    # The retry shows it on both feeds at its own place.
    assert services.post_unhide(post_id=post["id"]) is True
    assert read(cursor=None, after=None)[0] == [other["id"], post["id"]]
    assert topic_ids("news") == [post["id"]]


def test_a_lost_trending_bump_still_stores_and_announces_the_post(monkeypatch, caplog):
    def outage(*args, **kwargs):
        raise redis_utils.OUTAGE_ERRORS[0]("gone")

    monkeypatch.setattr(services, "_trending_bump", outage)
    post = services.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    assert selectors.post_get(post_id=post["id"]) is not None
    assert topic_ids("news") == [post["id"]]
    assert selectors.trending_list() == []
    assert "Trending not bumped" in caplog.text
