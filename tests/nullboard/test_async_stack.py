"""Every middleware settings.MIDDLEWARE lists is async-capable and runs as itself
under ASGI, and every answer carries the same headers as the sync stack gives."""

from __future__ import annotations

import asyncio
import re

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string

from nullboard.asgi import django_asgi_app

HOST = "testserver"


async def asgi(path: str, query: str = "", method: str = "GET", headers=()) -> tuple:
    """(status, {header: value}, body) from the project's ASGI handler."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", HOST.encode()), *headers],
        "client": ("127.0.0.1", 5000),
        "server": (HOST, 80),
    }
    sent: list[dict] = []
    asked = asyncio.Event()

    async def receive():
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await django_asgi_app(scope, receive, send)
    start = sent[0]
    head = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], head, body


async def next_step(request):
    return None


def test_every_middleware_is_async_native_under_asgi():
    """Listed by the class that runs: none is Django's, django-csp's or WhiteNoise's
    MiddlewareMixin (a thread hop per hook) or sync-only middleware."""
    assert not any(
        path.startswith(("django.", "csp.", "whitenoise.")) for path in settings.MIDDLEWARE
    )
    for path in settings.MIDDLEWARE:
        cls = import_string(path)
        assert getattr(cls, "async_capable", False), path
        assert iscoroutinefunction(cls(next_step)), path


async def test_a_feed_read_answers_the_same_bytes_and_headers_as_the_sync_stack():
    from asgiref.sync import sync_to_async

    sync = await sync_to_async(Client().get)("/api/posts", {"topic": "news"})
    status, head, body = await asgi("/api/posts", "topic=news")
    assert status == 200 == sync.status_code
    assert body == sync.content
    expected = {k.lower(): v for k, v in sync.headers.items()}
    assert head == expected


async def test_a_page_gets_its_nonce_and_the_session_is_saved():
    status, head, body = await asgi("/")
    assert status == 200
    nonce = re.search(r"'nonce-([^']+)'", head["content-security-policy"]).group(1)
    assert f'nonce="{nonce}"'.encode() in body
    assert "x-frame-options" in head and "permissions-policy" in head


async def test_static_files_are_served_with_whitenoise_headers():
    status, head, body = await asgi("/static/css/site.css")
    assert status == 200
    assert head["content-type"].startswith("text/css")
    assert body or head.get("content-length")


async def test_an_unknown_api_path_is_a_json_404():
    status, head, body = await asgi("/api/nope")
    assert status == 404
    assert head["content-type"] == "application/json"
    assert b'"not_found"' in body
