"""Site-wide middleware: JSON errors and outages, the headers Django lacks, and
Django's, django-csp's and WhiteNoise's middleware run without a thread hop per hook."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast
from urllib.parse import urlsplit

import csp.middleware
import django.contrib.sessions.middleware
import django.middleware.clickjacking
import django.middleware.common
import django.middleware.csrf
import django.middleware.security
import redis
import whitenoise.middleware
from asgiref.sync import async_to_sync, sync_to_async
from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin
from django_ratelimit.exceptions import Ratelimited

from nullboard import errors, metrics
from nullboard.api import error_response, is_api_path, json_error, run_failure_hooks
from nullboard.identity import name_cookie_set
from nullboard.middleware_base import BothModes, GetResponse
from nullboard.redis_utils import OUTAGE_ERRORS

logger = logging.getLogger(__name__)

# A process_view hook: (request, view, view_args, view_kwargs) -> a response or None.
ProcessView = Callable[[HttpRequest, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]

PERMISSIONS_POLICY = (
    "microphone=(self), camera=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


STORE_FULL_DETAIL = errors.STORE_FULL


def outage_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """503 for a Redis outage (``store_full`` when Redis is at its memory limit):
    JSON on the API, a plain page elsewhere."""
    metrics.REDIS_ERRORS.inc()
    if is_api_path(request.path):
        if isinstance(exc, redis.exceptions.OutOfMemoryError):
            return json_error(503, "store_full", STORE_FULL_DETAIL, {"Retry-After": "30"})
        return json_error(
            503, "unavailable", "The store is unreachable. Try again shortly.", {"Retry-After": "5"}
        )
    body = render_to_string("nullboard/503.html", request=None)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


def error_for_exception(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """Map expected exceptions to clean answers; None lets Django handle the rest
    (its 500 handler, nullboard.views.server_error, undoes the spending itself)."""
    response = _error_for_exception(request, exc)
    if response is not None and response.status_code >= 500:
        run_failure_hooks(request)  # a proof of work spent by a write that failed
    return response


def _error_for_exception(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    if isinstance(exc, OUTAGE_ERRORS):
        logger.warning("Redis unreachable: %s", type(exc).__name__)
        return outage_response(request, exc)
    if not is_api_path(request.path):
        return None
    if isinstance(exc, errors.Error):
        return error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return json_error(413, "too_large", "The request body is too large.")
    if isinstance(exc, MultiPartParserError | UnreadablePostError | BadRequest):
        return json_error(400, "bad_request", "The request body could not be read.")
    if isinstance(exc, Ratelimited):
        window = str(settings.RATE_LIMIT_WINDOW_SECONDS)
        return json_error(
            429, "rate_limited", "Too many requests; slow down.", {"Retry-After": window}
        )
    if isinstance(exc, PermissionDenied):
        return json_error(403, "forbidden", "Not allowed.")
    if isinstance(exc, Http404):
        return json_error(404, "not_found", "Nothing here.")
    logger.exception("Unhandled error on %s", request.path)
    return json_error(500, "server_error", "Something went wrong on our side.")


# --- Middleware that runs inline in both modes ---------------------------------------
# Under ASGI, Django's MiddlewareMixin runs every process_request / process_response /
# process_view in a worker thread (sync_to_async): about fifteen thread hops per
# request with this stack, a fifth to a quarter of the feed's and the session's
# throughput (CHANGELOG.md). The hooks below only look at headers and cookies (no
# I/O), so these classes are async-capable by Django's documented protocol
# (sync_capable / async_capable, markcoroutinefunction) and call them as plain calls.


class InlineMiddleware(BothModes):
    """Base: ``before`` and ``after`` run inline, on the event loop under ASGI."""

    def call(self, request: HttpRequest) -> HttpResponseBase:
        response = self.before(request) or self.respond(request)
        return self.after(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.before(request) or await self.arespond(request)
        return await self.after_async(request, response)

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        return response

    async def after_async(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        return self.after(request, response)


class ApiErrorMiddleware(MiddlewareMixin):
    """Outermost: every API failure answers in the one JSON error shape."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return error_for_exception(request, exception)


class SecurityHeadersMiddleware(InlineMiddleware):
    """Headers Django does not set itself: Permissions-Policy and CORP."""

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if is_api_path(request.path):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class IdentityCookieMiddleware(InlineMiddleware):
    """Carry a session-less visitor's throwaway name in a signed cookie, so page
    views store nothing in Redis (nullboard.identity)."""

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        name_cookie_set(request, response)
        return response


class SameOriginFormMiddleware(InlineMiddleware):
    """Put the origin back on same-origin form posts from no-referrer pages.

    Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` with a
    form post, which Django's CSRF origin check refuses, so no-JS forms broke.
    ``Sec-Fetch-Site`` is set by the browser (scripts cannot), so when it says
    same-origin the origin is ours. The CSRF token is still checked.
    """

    def before(self, request: HttpRequest) -> None:
        meta = request.META
        if meta.get("HTTP_ORIGIN") == "null" and meta.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            meta["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"


class InlineHooks(InlineMiddleware):
    """Base: a library's middleware (``wraps``), its public hooks called inline.

    The library's instance does the work with its own settings; only the thread
    hop per hook is gone. Django's deploy checks key on the library's own path,
    so nullboard.checks repeats them for these classes.
    """

    wraps: type

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.inner = self.wraps(get_response)
        view_hook: ProcessView | None = getattr(self.inner, "process_view", None)
        if view_hook is not None:  # Django would adapt a sync one with a thread hop
            self.process_view = self.view_async(view_hook) if self.is_async else view_hook

    @staticmethod
    def view_async(hook: ProcessView) -> ProcessView:
        async def process_view(
            request: HttpRequest,
            view: Callable[..., Any],
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
        ) -> Any:
            return hook(request, view, args, kwargs)

        return process_view

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        hook = getattr(self.inner, "process_request", None)
        return hook(request) if hook is not None else None

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        hook = getattr(self.inner, "process_response", None)
        return hook(request, response) if hook is not None else response


class SecurityMiddleware(InlineHooks):
    """Django's SecurityMiddleware (HSTS, SSL redirect, nosniff, referrer, COOP)."""

    wraps = django.middleware.security.SecurityMiddleware


class CommonMiddleware(InlineHooks):
    """Django's CommonMiddleware (disallowed agents, APPEND_SLASH, Content-Length)."""

    wraps = django.middleware.common.CommonMiddleware


class CsrfViewMiddleware(InlineHooks):
    """Django's CsrfViewMiddleware."""

    wraps = django.middleware.csrf.CsrfViewMiddleware


class XFrameOptionsMiddleware(InlineHooks):
    """Django's XFrameOptionsMiddleware."""

    wraps = django.middleware.clickjacking.XFrameOptionsMiddleware


class LocaleMiddleware(InlineMiddleware):
    """The reader's language, from Django's language cookie or Accept-Language.

    Django's public translation API, not django.middleware.locale: that one also
    looks for a language prefix in every path (i18n_patterns, which this site does
    not use), which was most of its cost on the feed (CHANGELOG.md, 2026-12-02).
    """

    def before(self, request: HttpRequest) -> None:
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class CSPMiddleware(InlineHooks):
    """django-csp's CSPMiddleware: the nonce CSP of settings.CONTENT_SECURITY_POLICY.

    A JSON answer renders no template, so it never uses a nonce: its policy is the
    same string every time, built once here with django-csp's own build_policy,
    rather than rebuilt for every API response (a tenth of a feed read).
    """

    wraps = csp.middleware.CSPMiddleware

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.api_policy = build_policy()

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        return None if is_api_path(request.path) else super().before(request)

    def after(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if is_api_path(request.path):
            response.headers.setdefault(CSP_HEADER, self.api_policy)
            return response
        return super().after(request, response)


class SessionMiddleware(InlineHooks):
    """Django's SessionMiddleware. The session stays lazy (a request without a session
    cookie never touches Redis); only a save goes to a worker thread, and not even
    that when the view already saved it as it is (nullboard.sessions)."""

    wraps = django.contrib.sessions.middleware.SessionMiddleware

    async def after_async(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        session = getattr(request, "session", None)
        saves = session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
        if saves and not getattr(session, "is_saved", lambda: False)():
            return await sync_to_async(self.after)(request, response)
        return self.after(request, response)


class StaticFilesMiddleware(InlineMiddleware):
    """WhiteNoise (its files, headers and compressed variants) for STATIC_URL paths.

    WhiteNoise's middleware is sync-only, which under ASGI would put every request
    through a thread and back. Here a request outside STATIC_URL never meets it,
    and a static one is served by it in a worker thread.
    """

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        # is_async: get_response is a coroutine function, which async_to_sync takes.
        next_async = cast(Callable[[HttpRequest], Awaitable[HttpResponseBase]], get_response)
        rest = async_to_sync(next_async) if self.is_async else get_response
        self.whitenoise = whitenoise.middleware.WhiteNoiseMiddleware(rest)
        self.prefix = urlsplit(settings.STATIC_URL).path

    def call(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = self.whitenoise(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(self.prefix):
            return await sync_to_async(self.serve, thread_sensitive=False)(request)
        return await self.arespond(request)

    def serve(self, request: HttpRequest) -> HttpResponseBase:
        """WhiteNoise's answer with its file read here, in the thread: Django's ASGI
        handler would otherwise drain the file iterator on the loop, with a warning."""
        response: HttpResponseBase = self.whitenoise(request)
        if not isinstance(response, StreamingHttpResponse) or response.is_async:
            return response
        try:
            # Not is_async: streaming_content is a plain iterator of bytes.
            body = b"".join(cast(Iterator[bytes], response.streaming_content))
        finally:
            response.close()
        return HttpResponse(body, status=response.status_code, headers=response.headers)
