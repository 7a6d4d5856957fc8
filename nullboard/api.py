"""JSON API plumbing: one error shape, body parsing, a method guard, and undoing
what a request spent when its answer is a server failure."""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An expected failure that becomes ``{"error": code, "detail": text}``."""

    def __init__(self, status: int, code: str, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def json_error(status: int, code: str, detail: str, headers: dict | None = None) -> JsonResponse:
    """The one error body every API path answers with."""
    response = JsonResponse({"error": code, "detail": detail}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


_BODY_CACHE = "_nullboard_body"

# Bounds on the numbers a JSON body may hold. Python's parser would spend quadratic
# time on a 5,000-digit integer and then refuse it with a bare ValueError (a 500),
# and reads 1e400 as infinity; no field needs either. Numbers in range for JSON
# but not for a field (a life of 10**40 seconds) are each field's check to refuse.
# Deep nesting ends in RecursionError after about a thousand levels, in linear time.
JSON_MAX_INT_DIGITS = 64


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > JSON_MAX_INT_DIGITS:
        raise ApiError(400, "invalid_json", "A number in the body is out of range.")
    return int(text)


def _json_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ApiError(400, "invalid_json", "A number in the body is out of range.")
    return number


def _json_constant(text: str) -> None:
    raise ApiError(400, "invalid_json", f"{text} is not JSON.")


def json_parse(raw: bytes) -> Any:
    """Parse a JSON body within the number bounds above; any failure is ApiError(400)."""
    try:
        return json.loads(
            raw,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        # JSONDecodeError is a ValueError; so is an int past Python's digit limit.
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None


def request_data(request: HttpRequest) -> dict[str, Any]:
    """The request's fields: a JSON object body, or the form for multipart posts.

    Cached on the request so decorators and views parse the body once.
    """
    cached = getattr(request, _BODY_CACHE, None)
    if cached is not None:
        return cached
    content_type = request.content_type or ""
    if content_type.startswith("multipart/") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        data: dict[str, Any] = {k: request.POST.get(k) for k in request.POST}
    elif not request.body:
        data = {}
    else:
        data = json_parse(request.body)
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    setattr(request, _BODY_CACHE, data)
    return data


def field(data: dict[str, Any], name: str, *, max_length: int = 200, required: bool = True) -> str:
    """A string field, checked for type and length (400 otherwise)."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, "missing_field", f"'{name}' is required.")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"'{name}' must be a string.")
    if len(value) > max_length or "\x00" in value or not _encodable(value):
        raise ApiError(400, "invalid_field", f"'{name}' is too long or malformed.")
    return value


def _encodable(value: str) -> bool:
    """False for text JSON can carry but UTF-8 cannot (lone surrogates)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


# --- Undo on failure ---------------------------------------------------------------
# Something a request spends before its write (a proof-of-work challenge) is given
# back when the answer is a server failure (5xx, 503 outage, an exception): the
# client did its part and may retry with it. Registered by whoever spent it.
_ON_FAILURE = "_nullboard_on_failure"


def on_server_failure(request: HttpRequest, undo: Callable[[], None]) -> None:
    """Run ``undo`` if this request ends in a server failure (at most once)."""
    hooks = request.__dict__.setdefault(_ON_FAILURE, [])
    hooks.append(undo)


def run_failure_hooks(request: HttpRequest) -> None:
    """The request failed on the server's side: undo what it spent. Each undo is
    best effort (it may meet the same outage) and never raises."""
    hooks = request.__dict__.pop(_ON_FAILURE, [])
    for undo in hooks:
        try:
            undo()
        except Exception as exc:  # the same outage, most likely: the 503 still goes out
            logger.warning("Could not undo a failed request's spending: %s", type(exc).__name__)


def has_failure_hooks(request: HttpRequest) -> bool:
    return bool(request.__dict__.get(_ON_FAILURE))


def api(methods: Iterable[str] = ("GET",)) -> Callable:
    """Guard a view's methods with a JSON 405 and turn ApiError into JSON.

    Works on sync and async views alike (an async view stays a coroutine).
    """
    allowed = tuple(m.upper() for m in methods)

    def refuse(request: HttpRequest) -> JsonResponse | None:
        if request.method in allowed:
            return None
        return json_error(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here.",
            {"Allow": ", ".join(allowed)},
        )

    def decorator(view: Callable) -> Callable:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args, **kwargs):
                if (refused := refuse(request)) is not None:
                    return refused
                try:
                    response = await view(request, *args, **kwargs)
                except ApiError as exc:
                    response = json_error(exc.status, exc.code, exc.detail, exc.headers)
                # Other exceptions go on to ApiErrorMiddleware, which answers them and
                # undoes the spending when its answer is a server failure.
                if response.status_code >= 500 and has_failure_hooks(request):
                    await sync_to_async(run_failure_hooks)(request)
                return response

            return async_wrapper

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if (refused := refuse(request)) is not None:
                return refused
            try:
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = json_error(exc.status, exc.code, exc.detail, exc.headers)
            if response.status_code >= 500:
                run_failure_hooks(request)
            return response

        return wrapper

    return decorator
