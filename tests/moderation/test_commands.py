"""Operator commands, run through call_command."""

import json
from io import StringIO

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import CommandError, call_command

from boards import keys, selectors
from nullboard import redis_utils
from nullboard.asgi import application
from tests.boards.helpers import keys_matching
from tests.moderation.conftest import flag, visitor
from tests.readers import feed_page


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_queue_says_nothing_to_do_when_empty():
    assert run("moderation_queue").strip() == "Nothing to do."


def test_the_queue_lists_flagged_items_newest_first_with_reasons(post, comment, settings):
    settings.FLAG_HIDE_THRESHOLD = 2
    flag(visitor(), "post", post["id"], "spam")
    flag(visitor(), "post", post["id"], "doxxing")
    flag(visitor(), "comment", comment["id"], "harassment")
    rows = json.loads(run("moderation_queue", "--json"))
    assert {(r["type"], r["id"]) for r in rows} == {
        ("comment", comment["id"]),
        ("post", post["id"]),
    }
    by_id = {r["id"]: r for r in rows}
    assert by_id[post["id"]]["flags"] == 2
    assert by_id[post["id"]]["reasons"] == {"spam": 1, "doxxing": 1}
    assert by_id[post["id"]]["hidden"] is True
    assert by_id[post["id"]]["topic"] == "news"
    assert by_id[comment["id"]]["hidden"] is False
    assert by_id[comment["id"]]["topic"] == "news"
    text = run("moderation_queue")
    assert post["id"] in text and "HIDDEN" in text and "2 flagged, 1 hidden." in text


def test_remove_takes_a_post_and_its_comments(post, comment):
    flag(visitor(), "post", post["id"])
    assert f"Removed post {post['id']}" in run("moderation_remove", "post", post["id"])
    assert selectors.post_get(post_id=post["id"]) is None
    assert not redis_utils.client().exists(keys.comment_key(comment["id"]))
    assert keys_matching("nb:flag:*") == []
    assert json.loads(run("moderation_queue", "--json")) == []


def test_remove_of_an_unknown_id_fails():
    with pytest.raises(CommandError, match="No post 0123456789abcdef"):
        run("moderation_remove", "post", "0123456789abcdef")
    with pytest.raises(CommandError, match="is not a comment id"):
        run("moderation_remove", "comment", "../../x")


async def test_remove_reaches_live_pages(post):
    from asgiref.sync import sync_to_async

    socket = WebsocketCommunicator(
        application, "/ws/feed/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["event"] == "session:ready"
    await socket.send_json_to({"event": "topic:join", "payload": {"topic": "news"}})
    assert (await socket.receive_json_from())["event"] == "topic:joined"
    await sync_to_async(run)("moderation_remove", "post", post["id"])
    frame = await socket.receive_json_from(timeout=3)
    assert frame["event"] == "post:removed"
    assert frame["payload"]["id"] == post["id"]
    await socket.disconnect()


def test_restore_clears_flags_and_shows_the_post_again(post, settings):
    settings.FLAG_HIDE_THRESHOLD = 1
    flag(visitor(), "post", post["id"])
    assert feed_page(topic="news")["items"] == []
    assert "Restored post" in run("moderation_restore", "post", post["id"])
    assert [p["id"] for p in feed_page(topic="news")["items"]] == [post["id"]]
    assert keys_matching("nb:flag:*") == []


def test_restore_shows_a_hidden_comment_again(post, comment, settings):
    settings.FLAG_HIDE_THRESHOLD = 1
    flag(visitor(), "comment", comment["id"])
    assert selectors.comments_list(post_id=post["id"]) == []
    run("moderation_restore", "comment", comment["id"])
    assert [c["id"] for c in selectors.comments_list(post_id=post["id"])] == [comment["id"]]


def test_restore_of_an_unknown_id_fails():
    with pytest.raises(CommandError):
        run("moderation_restore", "post", "0123456789abcdef")


def test_verbosity_zero_is_quiet(post):
    out = StringIO()
    call_command("moderation_remove", "post", post["id"], verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert selectors.post_get(post_id=post["id"]) is None


def test_an_id_with_a_trailing_newline_is_refused(post):
    with pytest.raises(CommandError):
        call_command("moderation_remove", "post", post["id"] + "\n", stdout=StringIO())
    assert selectors.post_get(post_id=post["id"]) is not None
