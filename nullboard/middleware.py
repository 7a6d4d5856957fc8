"""Site-wide middleware: JSON errors and outages, and the headers Django lacks."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django_ratelimit.exceptions import Ratelimited

from nullboard.api import ApiError, is_api_path, json_error
from nullboard.store import OUTAGE_ERRORS

logger = logging.getLogger(__name__)

PERMISSIONS_POLICY = (
    "microphone=(self), camera=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 for a Redis outage: JSON on the API, a plain page elsewhere."""
    if is_api_path(request.path):
        return json_error(
            503, "unavailable", "The store is unreachable. Try again shortly.", {"Retry-After": "5"}
        )
    body = render_to_string("nullboard/503.html", request=None)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


def error_for_exception(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """Map expected exceptions to clean answers; None lets Django handle the rest."""
    if isinstance(exc, OUTAGE_ERRORS):
        logger.warning("Redis unreachable: %s", type(exc).__name__)
        return outage_response(request)
    if not is_api_path(request.path):
        return None
    if isinstance(exc, ApiError):
        return json_error(exc.status, exc.code, exc.detail, exc.headers)
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


class ApiErrorMiddleware(MiddlewareMixin):
    """Outermost: every API failure answers in the one JSON error shape."""

    def process_exception(self, request: HttpRequest, exception: Exception):
        return error_for_exception(request, exception)


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Headers Django does not set itself: Permissions-Policy and CORP."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if is_api_path(request.path):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class SameOriginFormMiddleware(MiddlewareMixin):
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
