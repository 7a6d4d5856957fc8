"""Bench-only ASGI app: the site, plus a bare reference under ``/bench/``.

``/bench/bare`` is an async Django view behind a handler with no middleware at
all, answering the bytes in ``$BENCH_BARE_BODY_FILE`` (the feed page the bench
reads): the ceiling a feed read on this server could reach; ``/bench/spare``
answers 204 (tests/perf/wrk_list.lua's filler). Everything else goes
to ``nullboard.asgi.application`` unchanged. tests/perf/bench_all.py serves it.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from nullboard.asgi import application as site  # noqa: E402

PREFIX = "/bench/"
_body: list[bytes] = []


async def bare_view(request):
    """The same bytes as the feed page, with nothing else to do (the bench writes
    the file after seeding the feed; it is read once, on the first request)."""
    if not _body:
        _body.append(Path(os.environ["BENCH_BARE_BODY_FILE"]).read_bytes())
    return HttpResponse(_body[0], content_type="application/json")


async def spare_view(request):
    """204 and nothing else: what wrk_list.lua sends once its listed requests are out."""
    return HttpResponse(status=204)


urlpatterns = [path("bench/bare", bare_view), path("bench/spare", spare_view)]


class BareHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware chain and this urlconf."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)

    def resolve_request(self, request):
        request.urlconf = __name__
        return super().resolve_request(request)


bare = BareHandler()


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(PREFIX):
        return await bare(scope, receive, send)
    return await site(scope, receive, send)
