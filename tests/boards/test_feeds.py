"""Feeds: newest first, pruned on read and write, stable cursor pagination."""

from __future__ import annotations

from django.conf import settings

from boards import keys, selectors, services
from nullboard import redis_utils
from tests.readers import feed_page

from .helpers import make_comment, make_post


def walk(**where) -> list[str]:
    seen, cursor = [], None
    while True:
        page = feed_page(cursor=cursor, **where)
        seen += [post["id"] for post in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_it_lists_newest_first():
    ids = [make_post(topic="news")["id"] for _ in range(3)]
    assert [p["id"] for p in feed_page(topic="news")["items"]] == ids[::-1]


def test_it_pages_with_a_cursor():
    ids = [make_post(topic="news")["id"] for _ in range(45)]
    first = feed_page(topic="news")
    assert len(first["items"]) == selectors.PAGE_SIZE
    assert first["next_cursor"]
    assert walk(topic="news") == ids[::-1]


def test_the_last_page_has_no_cursor():
    for _ in range(selectors.PAGE_SIZE):
        make_post(topic="news")
    assert feed_page(topic="news")["next_cursor"] is None


def test_walking_sees_each_post_once_while_new_posts_arrive():
    old = [make_post(topic="news")["id"] for _ in range(50)]
    seen, cursor = [], None
    while True:
        page = feed_page(topic="news", cursor=cursor)
        seen += [post["id"] for post in page["items"]]
        for _ in range(7):  # others keep posting while we scroll
            make_post(topic="news")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == old[::-1]


def test_walking_while_another_thread_posts_sees_each_old_post_once():
    import threading

    old = [make_post(topic="news")["id"] for _ in range(60)]
    stop = threading.Event()

    def keep_posting():
        while not stop.is_set():
            make_post(topic="news")

    writer = threading.Thread(target=keep_posting)
    writer.start()
    try:
        seen = walk(topic="news")
    finally:
        stop.set()
        writer.join()
    old_seen = [post_id for post_id in seen if post_id in set(old)]
    assert old_seen == old[::-1]
    assert len(seen) == len(set(seen))


def test_topic_feeds_are_separate_and_home_has_them_all():
    news = make_post(topic="news")
    sport = make_post(topic="sport")
    assert [p["id"] for p in feed_page(topic="news")["items"]] == [news["id"]]
    assert [p["id"] for p in feed_page()["items"]] == [sport["id"], news["id"]]


def test_it_never_returns_an_expired_post(time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    old = make_post(topic="news")
    time_machine.move_to(1_900_000_000 + settings.POST_TTL_SECONDS - 10, tick=False)
    fresh = make_post(topic="news")
    time_machine.move_to(1_900_000_000 + settings.POST_TTL_SECONDS + 1, tick=False)
    assert [p["id"] for p in feed_page(topic="news")["items"]] == [fresh["id"]]
    assert selectors.post_get(post_id=old["id"]) is None
    # pruned on read: the id is gone from the sorted sets too
    assert redis_utils.client().zscore(keys.feed_key(topic="news"), old["id"]) is None


def test_it_prunes_ids_whose_post_vanished():
    post = make_post(topic="news")
    kept = make_post(topic="news")
    redis_utils.client().delete(keys.post_key(post["id"]))  # as if Redis expired it
    assert [p["id"] for p in feed_page(topic="news")["items"]] == [kept["id"]]
    assert redis_utils.client().zcard(keys.feed_key(topic="news")) == 1


def test_a_page_stays_full_when_dead_ids_are_skipped():
    ids = [make_post(topic="news")["id"] for _ in range(30)]
    for post_id in ids[-5:]:
        redis_utils.client().delete(keys.post_key(post_id))
    page = feed_page(topic="news")
    assert len(page["items"]) == selectors.PAGE_SIZE
    assert [p["id"] for p in page["items"]] == ids[-6::-1][: selectors.PAGE_SIZE]


def test_it_prunes_expired_entries_on_write(time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    old = make_post(topic="news")
    time_machine.move_to(1_900_000_000 + settings.POST_TTL_SECONDS + 1, tick=False)
    make_post(topic="news")
    assert redis_utils.client().zscore(keys.feed_key(topic="news"), old["id"]) is None
    assert redis_utils.client().zscore(keys.feed_key(), old["id"]) is None


def test_feed_sets_carry_the_post_ttl():
    make_post(topic="news")
    for name in (keys.feed_key(topic="news"), keys.feed_key()):
        assert settings.POST_TTL_SECONDS - 2 <= redis_utils.client().ttl(name)


def test_a_feed_read_is_one_redis_call(monkeypatch):
    for _ in range(25):
        make_post(topic="news")
    feed_page(topic="news")  # the script is loaded once per server
    calls = []
    conn = redis_utils.client()
    original = conn.execute_command

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(conn, "execute_command", counting)
    feed_page(topic="news")
    assert calls == ["EVALSHA"]


def test_room_feeds_list_room_posts():
    room = services.room_create()["room"]
    post = make_post(room=room)
    items = feed_page(room=room)["items"]
    assert [p["id"] for p in items] == [post["id"]]
    assert items[0]["room"] == room
    assert "topic" not in items[0]


def test_at_its_expiry_second_a_post_is_gone(time_machine):
    time_machine.move_to(1_900_000_000.999, tick=False)
    post = make_post(topic="news")
    time_machine.move_to(post["expires_at"] - 1, tick=False)
    assert len(feed_page(topic="news")["items"]) == 1
    time_machine.move_to(post["expires_at"], tick=False)
    assert feed_page(topic="news")["items"] == []
    assert selectors.post_get(post_id=post["id"]) is None


async def _json_page(**where) -> bytes:
    return await selectors.feed_page_json(**where)


def test_the_json_page_is_byte_for_byte_json_dumps_of_the_page():
    import json

    from asgiref.sync import async_to_sync

    room = services.room_create()["room"]
    for n in range(25):
        make_post(topic="news")
        if n % 5 == 0:
            services.comment_create(post_id=make_post(topic="news")["id"], blob="AQ==", author="a")
    make_post(room=room)
    first = feed_page(topic="news")
    pages = [
        {"topic": "news"},
        {"topic": "news", "cursor": first["next_cursor"]},
        {"room": room},
        {},
        {"topic": "empty"},
    ]
    for where in pages:
        expected = json.dumps(feed_page(**where)).encode()
        assert async_to_sync(_json_page)(**where) == expected


def test_a_value_that_needs_escaping_falls_back_to_python_json():
    import json

    from asgiref.sync import async_to_sync

    make_post(topic="news", author='odd "name" é\\')
    expected = json.dumps(feed_page(topic="news")).encode()
    assert async_to_sync(_json_page)(topic="news") == expected
    assert b"\\u00e9" in expected


# --- Catch-up: ``after=`` the newest cursor a page holds -----------------------


def test_every_post_carries_its_cursor_and_it_orders_the_feed():
    posts = [make_post(topic="news") for _ in range(3)]
    items = feed_page(topic="news")["items"]
    assert [p["cursor"] for p in items] == [p["cursor"] for p in posts[::-1]]
    assert [int(p["cursor"]) for p in posts] == sorted(int(p["cursor"]) for p in posts)
    assert selectors.post_get(post_id=posts[0]["id"])["cursor"] == posts[0]["cursor"]


def test_after_gives_exactly_the_newer_posts():
    held = [make_post(topic="news") for _ in range(3)]
    missed = [make_post(topic="news") for _ in range(2)]
    page = feed_page(topic="news", after=held[-1]["cursor"])
    assert [p["id"] for p in page["items"]] == [p["id"] for p in missed[::-1]]
    assert page["next_cursor"] is None
    assert feed_page(topic="news", after=missed[-1]["cursor"])["items"] == []


def test_after_pages_when_more_were_missed_than_a_page_holds():
    held = make_post(topic="news")
    missed = [make_post(topic="news")["id"] for _ in range(selectors.PAGE_SIZE + 5)]
    seen, cursor = [], None
    while True:
        page = feed_page(topic="news", after=held["cursor"], cursor=cursor)
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == missed[::-1]


def test_after_works_for_home_and_rooms():
    room = services.room_create()["room"]
    held_room, held_home = make_post(room=room), make_post(topic="sport")
    missed_room, missed_home = make_post(room=room), make_post(topic="news")
    in_room = feed_page(room=room, after=held_room["cursor"])["items"]
    at_home = feed_page(after=held_home["cursor"])["items"]
    assert [p["id"] for p in in_room] == [missed_room["id"]]
    assert [p["id"] for p in at_home] == [missed_home["id"]]


def test_after_older_than_any_live_post_gives_the_whole_feed(time_machine):
    time_machine.move_to(1_900_000_000, tick=False)
    old = make_post(topic="news")
    time_machine.move_to(1_900_000_000 + settings.POST_TTL_SECONDS + 5, tick=False)
    fresh = make_post(topic="news")
    page = feed_page(topic="news", after=old["cursor"])
    assert [p["id"] for p in page["items"]] == [fresh["id"]]
    assert [p["id"] for p in feed_page(topic="news", after="0")["items"]] == [fresh["id"]]


def test_the_api_answers_after_and_refuses_a_bad_one(client):
    held = make_post(topic="news")
    missed = make_post(topic="news")
    response = client.get(f"/api/posts?topic=news&after={held['cursor']}")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [missed["id"]]
    assert response.json()["items"][0]["cursor"] == missed["cursor"]
    bad = client.get("/api/posts?topic=news&after=12ab")
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_cursor"


def test_the_json_page_with_after_is_json_dumps_too():
    import json

    from asgiref.sync import async_to_sync

    held = make_post(topic="news")
    for _ in range(3):
        make_post(topic="news")
    expected = json.dumps(feed_page(topic="news", after=held["cursor"])).encode()
    assert async_to_sync(selectors.feed_page_json)(topic="news", after=held["cursor"]) == expected


def test_comments_after_gives_exactly_the_newer_comments(client):
    post = make_post(topic="news")
    held = [make_comment(post["id"]) for _ in range(2)]
    missed = [make_comment(post["id"]) for _ in range(2)]
    response = client.get(f"/api/posts/{post['id']}/comments?after={held[-1]['cursor']}")
    assert response.status_code == 200
    assert response.json()["items"] == missed
    everything = client.get(f"/api/posts/{post['id']}/comments").json()["items"]
    assert everything == held + missed
    bad = client.get(f"/api/posts/{post['id']}/comments?after=-1")
    assert bad.status_code == 400


# --- Hidden is not gone -------------------------------------------------------------


def test_a_hidden_post_answers_410_hidden_and_a_removed_one_404(client):
    hidden, removed = make_post(topic="news"), make_post(topic="news")
    services.post_hide(post_id=hidden["id"])
    services.post_remove(post_id=removed["id"])
    for path in (f"/api/posts/{hidden['id']}", f"/api/posts/{hidden['id']}/comments"):
        response = client.get(path)
        assert response.status_code == 410, path
        assert response.json()["error"] == "hidden"
    for path in (f"/api/posts/{removed['id']}", f"/api/posts/{removed['id']}/comments"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
    services.post_unhide(post_id=hidden["id"])
    assert client.get(f"/api/posts/{hidden['id']}").status_code == 200


def test_a_page_filled_past_a_pruned_post_still_has_a_cursor():
    ids = [make_post(topic="news")["id"] for _ in range(25)]
    redis_utils.client().delete(keys.post_key(ids[-2]))  # expired: its entry is pruned on read
    first = feed_page(topic="news")
    assert len(first["items"]) == selectors.PAGE_SIZE
    assert first["next_cursor"] is not None
    assert walk(topic="news") == [i for i in ids[::-1] if i != ids[-2]]
