"""Boards views: thin pages and JSON API over the services and selectors."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from antispam.pow import pow_write
from antispam.ratelimit import write_limit
from boards import selectors, services
from boards.validation import (
    CommentCreate,
    CommentsQuery,
    FeedQuery,
    PostCreate,
    RoomCreate,
    is_item_id,
    is_room,
    is_topic,
)
from nullboard import errors
from nullboard.api import api, spec_parse
from nullboard.identity import aidentity_require, identity_ensure, identity_require

# --- Pages ------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
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


# Refusals a store script gives (``redis.error_reply``), as domain errors.
_STORE_REFUSALS = {"no_room": errors.NO_SUCH_ROOM, "no_post": errors.NO_SUCH_POST}


def _not_found(exc: services.BoardsError) -> errors.NotFound:
    return errors.NotFound(_STORE_REFUSALS[exc.code])


@api(methods=["GET", "POST"])
async def posts_view(request: HttpRequest) -> HttpResponse:
    """GET a feed page (home, ``topic=`` or ``room=``, ``cursor=``, ``after=``);
    POST a post.

    ``after`` is the newest cursor a page holds: the answer holds only newer
    posts (newest first, paged by ``cursor`` as usual), which is how a page
    catches up after its live socket was away.

    Async: the feed read is the hottest path, so it runs on the event loop with
    one EVALSHA and no thread hop; a post too (rate limit, session, proof of work
    and the post script on the loop's Redis client).
    """
    if request.method == "POST":
        return await _post_create(request)
    query = spec_parse(FeedQuery, request.GET.dict())
    if query.room and not await selectors.room_exists_async(room=query.room):
        raise errors.NotFound(errors.NO_SUCH_ROOM)
    page = await selectors.feed_page_json(
        topic=query.topic, room=query.room, cursor=query.cursor, after=query.after
    )
    return HttpResponse(page, content_type="application/json")


async def _room_exists(request: HttpRequest, body: PostCreate) -> None:
    if body.room and not await selectors.room_exists_async(room=body.room):
        raise errors.NotFound(errors.NO_SUCH_ROOM)


@write_limit("posts")
@pow_write(PostCreate, check=_room_exists)
async def _post_create(request: HttpRequest, body: PostCreate) -> JsonResponse:
    author = (await aidentity_require(request)).username
    try:
        post = await services.apost_create(
            topic=body.topic, room=body.room, blob=body.blob, author=author
        )
    except services.BoardsError as exc:
        raise _not_found(exc) from None
    return JsonResponse(post, status=201)


@api(methods=["GET"])
def post_detail_view(request: HttpRequest, post_id: str) -> JsonResponse:
    """One live post; 410 ``hidden`` while moderation hides it; else 404."""
    try:
        post = selectors.post_find(post_id=post_id) if is_item_id(post_id) else None
    except selectors.ItemHidden:
        raise errors.Gone(errors.HIDDEN, code="hidden") from None
    if post is None:
        raise errors.NotFound(errors.NO_SUCH_POST)
    return JsonResponse(post)


@api(methods=["GET", "POST"])
def comments_view(request: HttpRequest, post_id: str) -> JsonResponse:
    """GET a post's comments, oldest first (``after=`` a cursor: only newer
    ones); POST a comment."""
    if not is_item_id(post_id):
        raise errors.NotFound(errors.NO_SUCH_POST)
    if request.method == "POST":
        return _comment_create(request, post_id)
    query = spec_parse(CommentsQuery, request.GET.dict())
    try:
        items = selectors.comments_find(post_id=post_id, after=query.after)
    except selectors.ItemHidden:
        raise errors.Gone(errors.HIDDEN, code="hidden") from None
    if items is None:
        raise errors.NotFound(errors.NO_SUCH_POST)
    return JsonResponse({"items": items})


def _post_exists(request: HttpRequest, body: CommentCreate, post_id: str) -> None:
    if selectors.post_get(post_id=post_id) is None:
        raise errors.NotFound(errors.NO_SUCH_POST)


@write_limit("comments")
@pow_write(CommentCreate, check=_post_exists)
def _comment_create(request: HttpRequest, body: CommentCreate, post_id: str) -> JsonResponse:
    author = identity_require(request).username
    try:
        comment = services.comment_create(post_id=post_id, blob=body.blob, author=author)
    except services.BoardsError as exc:
        raise _not_found(exc) from None
    return JsonResponse(comment, status=201)


@api(methods=["GET"])
def trending_api_view(request: HttpRequest) -> JsonResponse:
    """Trending topics with their decayed scores; rooms never appear."""
    return JsonResponse({"items": selectors.trending_list()})


@api(methods=["POST"])
@write_limit("rooms")
@pow_write(RoomCreate)
def rooms_view(request: HttpRequest, body: RoomCreate) -> JsonResponse:
    """Open a private room; its key is made in the browser and never sent here.

    An optional ``key_check`` (a known constant sealed with the room's key, in
    the blob format) lets a page tell a wrong key from an empty room. A
    passphrase room also sends ``kdf`` (see boards.room_kdf): the public salt and
    iteration count; it needs a key check, since a wrong passphrase must show
    nothing.
    """
    return JsonResponse(services.room_create(key_check=body.key_check, kdf=body.kdf), status=201)
