"""Site-wide middleware: JSON errors and outages, and the headers Django lacks."""

from __future__ import annotations

import logging

import django
import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_RO
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.core.handlers import base as handlers_base
from django.core.handlers.asgi import ASGIHandler as _ASGIHandler
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware as _CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as _CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware as _LocaleMiddleware
from django.middleware.security import SecurityMiddleware as _SecurityMiddleware
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django_ratelimit.exceptions import Ratelimited
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoiseMiddleware

from nullboard import errors
from nullboard.api import error_response, is_api_path, json_error, run_failure_hooks
from nullboard.identity import name_cookie_set
from nullboard.redis_utils import OUTAGE_ERRORS

logger = logging.getLogger(__name__)

PERMISSIONS_POLICY = (
    "microphone=(self), camera=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


STORE_FULL_DETAIL = errors.STORE_FULL


def outage_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """503 for a Redis outage (``store_full`` when Redis is at its memory limit):
    JSON on the API, a plain page elsewhere."""
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


# --- Async-native middleware ------------------------------------------------------
# Django's MiddlewareMixin is "async-capable", but in async mode it runs every
# process_request / process_response / process_view in a worker thread
# (sync_to_async): about fifteen thread hops per request with this stack. The hooks
# below only look at headers and cookies (no I/O), so on the event loop they run
# inline, as plain calls.


class InlineHooks:
    """Mixin for a MiddlewareMixin whose hooks do no blocking I/O: in async mode,
    call them on the event loop instead of hopping to a thread for each."""

    def __init__(self, get_response) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        if self.async_mode and hasattr(self, "process_view"):
            # Django adapts a sync process_view with sync_to_async; hand it a coroutine.
            sync_view = self.process_view

            async def process_view(request, view, args, kwargs):
                return sync_view(request, view, args, kwargs)

            self.process_view = process_view

    async def __acall__(self, request: HttpRequest):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = await self._respond(request, response)
        return response

    async def _respond(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return self.process_response(request, response)


class ApiErrorMiddleware(MiddlewareMixin):
    """Outermost: every API failure answers in the one JSON error shape."""

    def process_exception(self, request: HttpRequest, exception: Exception):
        return error_for_exception(request, exception)


class SecurityHeadersMiddleware(InlineHooks, MiddlewareMixin):
    """Headers Django does not set itself: Permissions-Policy and CORP."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if is_api_path(request.path):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class IdentityCookieMiddleware(InlineHooks, MiddlewareMixin):
    """Carry a session-less visitor's throwaway name in a signed cookie, so page
    views store nothing in Redis (nullboard.identity)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        name_cookie_set(request, response)
        return response


class SameOriginFormMiddleware(InlineHooks, MiddlewareMixin):
    """Put the origin back on same-origin form posts from no-referrer pages.

    Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` with a
    form post, which Django's CSRF origin check refuses, so no-JS forms broke.
    ``Sec-Fetch-Site`` is set by the browser (scripts cannot), so when it says
    same-origin the origin is ours. The CSRF token is still checked.
    """

    def process_request(self, request: HttpRequest) -> None:
        meta = request.META
        if meta.get("HTTP_ORIGIN") == "null" and meta.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            meta["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"


def _inline(base: type, doc: str) -> type:
    return type(base.__name__, (InlineHooks, base), {"__doc__": doc, "__module__": __name__})


SecurityMiddleware = _inline(_SecurityMiddleware, "Django's, with its hooks run inline.")
CommonMiddleware = _inline(_CommonMiddleware, "Django's, with its hooks run inline.")
CsrfViewMiddleware = _inline(_CsrfViewMiddleware, "Django's, with its hooks run inline.")
XFrameOptionsMiddleware = _inline(_XFrameOptionsMiddleware, "Django's, hooks inline.")
LocaleMiddleware = _inline(_LocaleMiddleware, "Django's, hooks inline (headers, cookie).")


# Response attributes through which django-csp's decorators change one response's policy.
_CSP_OVERRIDES = tuple(
    f"_csp_{what}{ro}" for what in ("config", "update", "replace", "exempt") for ro in ("", "_ro")
)


class CSPMiddleware(InlineHooks, _CSPMiddleware):
    """django-csp's, hooks inline, and the policy built once for the common case
    (no nonce used, no view decorator, no exclusions): every API answer."""

    _fixed: dict = {}

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        policy_ro = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or (policy or {}).get("EXCLUDE_URL_PREFIXES")
            or (policy_ro or {}).get("EXCLUDE_URL_PREFIXES")
            or any(hasattr(response, name) for name in _CSP_OVERRIDES)
        ):
            return super().process_response(request, response)
        key = (id(policy), id(policy_ro))  # the settings objects themselves
        headers = self._fixed.get(key)
        if headers is None:
            probe = super().process_response(request, HttpResponse())
            headers = {name: probe[name] for name in (CSP_HEADER, CSP_HEADER_RO) if name in probe}
            CSPMiddleware._fixed = {key: headers}  # settings change only in tests
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class SessionMiddleware(InlineHooks, _SessionMiddleware):
    """Django's lazy session: nothing is loaded unless a view reads it (a request
    without a session cookie never touches Redis); only a save leaves the loop."""

    async def _respond(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST):
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


class WhiteNoiseMiddleware(_WhiteNoiseMiddleware):
    """WhiteNoise (same files, headers and compressed variants) that also runs in
    async mode: a miss costs a dict lookup on the loop, a hit opens the file in a
    thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=settings) -> None:
        super().__init__(get_response, settings=settings)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self._serve_whole, thread_sensitive=False)(
                static_file, request
            )
        return await self.get_response(request)

    def _serve_whole(self, static_file, request: HttpRequest) -> HttpResponse:
        """WhiteNoise's answer with its body read here, in the thread: Django's ASGI
        handler would otherwise drain the file iterator itself, with a warning."""
        streamed = self.serve(static_file, request)
        try:
            body = b"".join(streamed.streaming_content)
        finally:
            streamed.close()
        response = HttpResponse(body, status=streamed.status_code)
        del response["Content-Type"]
        for name, value in streamed.items():
            response[name] = value
        return response


# Django's and the libraries' middleware by dotted name -> the twin loaded under ASGI.
TWINS: dict[str, type] = {
    "django.middleware.security.SecurityMiddleware": SecurityMiddleware,
    "whitenoise.middleware.WhiteNoiseMiddleware": WhiteNoiseMiddleware,
    "csp.middleware.CSPMiddleware": CSPMiddleware,
    "django.contrib.sessions.middleware.SessionMiddleware": SessionMiddleware,
    "django.middleware.common.CommonMiddleware": CommonMiddleware,
    "django.middleware.csrf.CsrfViewMiddleware": CsrfViewMiddleware,
    "django.middleware.clickjacking.XFrameOptionsMiddleware": XFrameOptionsMiddleware,
    "django.middleware.locale.LocaleMiddleware": LocaleMiddleware,
}


class ASGIHandler(_ASGIHandler):
    """Django's ASGI handler, loading settings.MIDDLEWARE with the async twins."""

    def load_middleware(self, is_async: bool = False) -> None:
        original = handlers_base.import_string
        handlers_base.import_string = lambda path: TWINS.get(path) or original(path)
        try:  # start-up only, before any request: nothing else imports meanwhile
            super().load_middleware(is_async=is_async)
        finally:
            handlers_base.import_string = original


def get_asgi_application() -> ASGIHandler:
    """Like django.core.asgi.get_asgi_application, with the async twins."""
    django.setup(set_prefix=False)
    return ASGIHandler()
