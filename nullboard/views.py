"""Site-wide views: the session endpoint and the error handlers."""

from __future__ import annotations

import sys
from typing import cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from antispam import pow
from antispam.ratelimit import write_limit
from nullboard import redis_utils
from nullboard.api import api, is_api_path, json_error, run_failure_hooks
from nullboard.identity import identity_ensure, identity_refreshed
from nullboard.middleware import outage_response
from nullboard.redis_utils import OUTAGE_ERRORS
from nullboard.sessions import SessionStore


@api(methods=["POST"])
@write_limit("session")
async def session_view(request: HttpRequest) -> JsonResponse:
    """Start or refresh the anonymous session and hand out a fresh challenge.

    Async, on the event loop's Redis client, in three round trips and no thread:
    the rate limit; the session's load with the site's write rate (the challenge's
    difficulty); the session's save with the challenge (docs/scaling.md).
    """
    session = cast(SessionStore, request.session)
    conn = redis_utils.aclient()
    reads = conn.pipeline(transaction=False)
    loads = session.queue_load(reads)
    pow.queue_write_rate(reads)
    replies = await reads.execute()
    if loads:
        session.loaded(replies[0])
    identity = identity_refreshed(request)
    writes = conn.pipeline(transaction=False)
    await session.queue_save(writes)
    challenge = pow.queue_challenge(writes, sid=identity.sid, rate=pow.rate_of(replies[-1]))
    saved, _ = await writes.execute()
    session.queued_saved(saved)
    return JsonResponse(
        {
            "sid": identity.sid,
            "username": identity.username,
            "pow_challenge": challenge.challenge,
            "pow_difficulty": challenge.difficulty,
            "ttl_seconds": settings.SESSION_TTL_SECONDS,
        }
    )


@ensure_csrf_cookie
def about_view(request: HttpRequest) -> HttpResponse:
    """A plain page on what Nullboard keeps and what it does not."""
    return render(request, "nullboard/about.html", {"identity": identity_ensure(request)})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_path(request.path):
        return json_error(403, "csrf_failed", "Missing or wrong CSRF token; GET / first.")
    return render(
        request, "nullboard/error.html", {"title": "Form expired", "status": 403}, status=403
    )


def _error_page(
    request: HttpRequest, status: int, code: str, detail: str, title: str
) -> HttpResponse:
    if is_api_path(request.path):
        return json_error(status, code, detail)
    return render(
        request, "nullboard/error.html", {"title": title, "status": status}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A body over the limit read by middleware (CSRF reads form posts) lands here.
    if isinstance(exception, RequestDataTooBig):
        return _error_page(request, 413, "too_large", "The request body is too large.", "Too large")
    return _error_page(request, 400, "bad_request", "The request was malformed.", "Bad request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 403, "forbidden", "Not allowed.", "Not allowed")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404, "not_found", "Nothing here.", "Not found")


def server_error(request: HttpRequest) -> HttpResponse:
    # Errors raised in middleware (a session save during an outage) land here.
    run_failure_hooks(request)
    if isinstance(sys.exc_info()[1], OUTAGE_ERRORS):
        return outage_response(request, sys.exc_info()[1])
    return _error_page(request, 500, "server_error", "Something went wrong on our side.", "Error")
