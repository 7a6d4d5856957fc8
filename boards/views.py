"""Boards views: thin pages and JSON API over the services and selectors."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from antispam.pow import pow_verify
from antispam.ratelimit import write_limit
from boards import selectors, services
from boards.room_kdf import kdf_clean
from boards.validation import (
    blob_clean,
    cursor_clean,
    is_item_id,
    is_room,
    is_topic,
    pubkey_clean,
    room_clean,
    topic_clean,
)
from nullboard.api import ApiError, api, request_data
from nullboard.identity import identity_ensure, identity_peek

# --- Pages ------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, **context) -> HttpResponse:
    """Render a boards page with the sidebars' context and the visitor's name."""
    identity = identity_ensure(request)
    board = {
        "maxBlobBytes": settings.MAX_BLOB_BYTES,
        "maxCommentBlobBytes": settings.MAX_COMMENT_BLOB_BYTES,
        **context.pop("board", {}),
    }
    return render(
        request,
        template,
        {
            "identity": identity,
            "topics": settings.BOARD_TOPICS,
            "trending": selectors.trending_list(),
            "board": board,
            **context,
        },
    )


@ensure_csrf_cookie
def home_view(request: HttpRequest) -> HttpResponse:
    """The home feed: every public topic, newest first, live."""
    return _page(request, "boards/feed.html", nav="home", is_home=True, board={"feed": "home"})


@ensure_csrf_cookie
def topic_view(request: HttpRequest, topic: str) -> HttpResponse:
    """A public topic's live feed and composer; any contract slug works."""
    if not is_topic(topic):
        raise Http404
    return _page(request, "boards/feed.html", topic=topic, current=topic, board={"topic": topic})


@ensure_csrf_cookie
def room_view(request: HttpRequest, room: str) -> HttpResponse:
    """A private room; the browser reads its key from the link's fragment."""
    found = selectors.room_get(room=room) if is_room(room) else None
    if found is None:
        raise Http404
    kdf = json.dumps(found["kdf"]) if found["kdf"] else ""
    return _page(
        request,
        "boards/feed.html",
        room=room,
        key_check=found["key_check"],
        kdf=kdf,
        board={"room": room},
    )


@ensure_csrf_cookie
def post_view(request: HttpRequest, post_id: str) -> HttpResponse:
    """One post with its comments, live; a hidden post's page says so (410)."""
    if not is_item_id(post_id):
        raise Http404
    try:
        post = selectors.post_find(post_id=post_id)
    except selectors.ItemHidden:
        response = _page(request, "boards/hidden.html")
        response.status_code = 410
        return response
    if post is None:
        raise Http404
    where = {"room": post["room"]} if "room" in post else {"topic": post["topic"]}
    found = selectors.room_get(room=post["room"]) if "room" in post else None
    return _page(
        request,
        "boards/post.html",
        post=post,
        key_check=found["key_check"] if found else "",
        kdf=json.dumps(found["kdf"]) if found and found["kdf"] else "",
        current=post.get("topic"),
        board={"post": post["id"], **where},
    )


TRENDING_PAGE_POSTS = 3  # newest posts shown under each trending topic


@ensure_csrf_cookie
def trending_view(request: HttpRequest) -> HttpResponse:
    """Topics ranked by time-decayed activity, each with its newest posts (the
    page decrypts them; the server only hands over blobs)."""
    hours = settings.TRENDING_HALF_LIFE_SECONDS / 3600
    return _page(
        request,
        "boards/trending.html",
        nav="trending",
        half_life_hours=f"{hours:g}",
        trending_posts=selectors.trending_with_posts(per_topic=TRENDING_PAGE_POSTS),
    )


@ensure_csrf_cookie
def my_rooms_view(request: HttpRequest) -> HttpResponse:
    """Passphrase rooms, and export/import of the rooms a browser keeps; all of it
    runs in the browser, so the page carries no room data."""
    return _page(request, "boards/rooms.html", nav="rooms")


# --- API ----------------------------------------------------------------------------


HIDDEN_DETAIL = "Hidden by community flags until a moderator reviews it."


@api(methods=["GET", "POST"])
async def posts_view(request: HttpRequest) -> JsonResponse:
    """GET a feed page (home, ``topic=`` or ``room=``, ``cursor=``, ``after=``);
    POST a post.

    ``after`` is the newest cursor a page holds: the answer holds only newer
    posts (newest first, paged by ``cursor`` as usual), which is how a page
    catches up after its live socket was away.

    Async: the feed read is the hottest path, so it runs on the event loop with
    one EVALSHA and no thread hop. Writes keep their sync stack (rate limit,
    proof of work, session) in a worker thread.
    """
    if request.method == "POST":
        return await sync_to_async(_post_create)(request)
    topic, room = request.GET.get("topic"), request.GET.get("room")
    if topic and room:
        raise ApiError(400, "invalid_feed", "Ask for a topic or a room, not both.")
    topic = topic_clean(topic) if topic else None
    room = room_clean(room) if room else None
    cursor = cursor_clean(request.GET.get("cursor"))
    after = cursor_clean(request.GET.get("after"))
    if room and not await selectors.room_exists_async(room=room):
        raise ApiError(404, "not_found", "No such room; it may have expired.")
    page = await selectors.feed_page_json(topic=topic, room=room, cursor=cursor, after=after)
    return HttpResponse(page, content_type="application/json")


@write_limit("posts")
def _post_create(request: HttpRequest) -> JsonResponse:
    # Validate everything first: a rejected write must not spend the challenge.
    data = request_data(request)
    topic, room = data.get("topic"), data.get("room")
    if bool(topic) == bool(room):
        raise ApiError(400, "invalid_feed", "Give exactly one of 'topic' or 'room'.")
    topic = topic_clean(topic) if topic else None
    room = room_clean(room) if room else None
    blob = blob_clean(data.get("blob"), max_bytes=settings.MAX_BLOB_BYTES)
    pubkey_clean(data.get("author_pubkey"))
    if room and not selectors.room_exists(room=room):
        raise ApiError(404, "not_found", "No such room; it may have expired.")
    pow_verify(request)
    author = identity_peek(request).username  # type: ignore[union-attr] - pow needs a session
    try:
        post = services.post_create(topic=topic, room=room, blob=blob, author=author)
    except services.BoardsError:
        raise ApiError(404, "not_found", "No such room; it may have expired.") from None
    return JsonResponse(post, status=201)


@api(methods=["GET"])
def post_detail_view(request: HttpRequest, post_id: str) -> JsonResponse:
    """One live post; 410 ``hidden`` while moderation hides it; else 404."""
    try:
        post = selectors.post_find(post_id=post_id) if is_item_id(post_id) else None
    except selectors.ItemHidden:
        raise ApiError(410, "hidden", HIDDEN_DETAIL) from None
    if post is None:
        raise ApiError(404, "not_found", "No such post; it may have expired.")
    return JsonResponse(post)


@api(methods=["GET", "POST"])
def comments_view(request: HttpRequest, post_id: str) -> JsonResponse:
    """GET a post's comments, oldest first (``after=`` a cursor: only newer
    ones); POST a comment."""
    if not is_item_id(post_id):
        raise ApiError(404, "not_found", "No such post; it may have expired.")
    if request.method == "POST":
        return _comment_create(request, post_id)
    after = cursor_clean(request.GET.get("after"))
    try:
        items = selectors.comments_find(post_id=post_id, after=after)
    except selectors.ItemHidden:
        raise ApiError(410, "hidden", HIDDEN_DETAIL) from None
    if items is None:
        raise ApiError(404, "not_found", "No such post; it may have expired.")
    return JsonResponse({"items": items})


@write_limit("comments")
def _comment_create(request: HttpRequest, post_id: str) -> JsonResponse:
    data = request_data(request)
    blob = blob_clean(data.get("blob"), max_bytes=settings.MAX_COMMENT_BLOB_BYTES)
    pubkey_clean(data.get("author_pubkey"))
    if selectors.post_get(post_id=post_id) is None:
        raise ApiError(404, "not_found", "No such post; it may have expired.")
    pow_verify(request)
    author = identity_peek(request).username  # type: ignore[union-attr] - pow needs a session
    try:
        comment = services.comment_create(post_id=post_id, blob=blob, author=author)
    except services.BoardsError:
        raise ApiError(404, "not_found", "No such post; it may have expired.") from None
    return JsonResponse(comment, status=201)


@api(methods=["GET"])
def trending_api_view(request: HttpRequest) -> JsonResponse:
    """Trending topics with their decayed scores; rooms never appear."""
    return JsonResponse({"items": selectors.trending_list()})


KEY_CHECK_MAX_BYTES = 200  # a short constant sealed with the room key


@api(methods=["POST"])
@write_limit("rooms")
def rooms_view(request: HttpRequest) -> JsonResponse:
    """Open a private room; its key is made in the browser and never sent here.

    An optional ``key_check`` (a known constant sealed with the room's key, in
    the blob format) lets a page tell a wrong key from an empty room. A
    passphrase room also sends ``kdf`` (see boards.room_kdf): the public salt and
    iteration count; it needs a key check, since a wrong passphrase must show
    nothing.
    """
    data = request_data(request)
    raw = data.get("key_check")
    key_check = blob_clean(raw, max_bytes=KEY_CHECK_MAX_BYTES) if raw not in (None, "") else ""
    kdf = kdf_clean(data["kdf"]) if data.get("kdf") is not None else None
    if kdf is not None and not key_check:
        raise ApiError(400, "missing_field", "A passphrase room needs its 'key_check'.")
    pow_verify(request)
    return JsonResponse(services.room_create(key_check=key_check, kdf=kdf), status=201)
