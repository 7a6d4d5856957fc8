"""JSON API plumbing: one error shape (and the one place domain errors become it),
body parsing, input specs, a method guard, and undoing what a request spent when
its answer is a server failure."""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from nullboard import errors

logger = logging.getLogger(__name__)

SpecT = TypeVar("SpecT", bound=BaseModel)
# A view, sync or async. Its answer type must admit a JsonResponse (the guard's and
# the error mapping's answer), so ``api`` keeps the view's own type.
ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponse | Awaitable[HttpResponse]])


def json_error(
    status: int, code: str, detail: errors.Detail, headers: dict[str, str] | None = None
) -> JsonResponse:
    """The one error body every API path answers with."""
    response = JsonResponse({"error": code, "detail": str(detail)}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(exc: errors.Error) -> JsonResponse:
    """The one mapping from a domain exception to the JSON error shape."""
    return json_error(exc.status, exc.code, exc.detail, exc.headers)


def spec_parse(spec: type[SpecT], data: Any, **context: Any) -> SpecT:
    """Validate ``data`` against an input spec, strictly; the first refusal (in
    the spec's field order, so checks keep their precedence) becomes
    :class:`errors.Invalid` with the spec's code and detail (see nullboard.specs)."""
    try:
        return spec.model_validate(data, strict=True, context=context or None)
    except ValidationError as exc:
        raise _refusal(exc.errors()[0]) from None


def _refusal(error: ErrorDetails) -> errors.Error:
    ctx = error.get("ctx") or {}
    if "detail" in ctx:  # a spec's own refusal (nullboard.specs.refuse)
        refusal = errors.TooLarge if ctx.get("status") == 413 else errors.Invalid
        return refusal(ctx["detail"], code=error["type"])
    name = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing":
        return errors.Invalid(errors.REQUIRED % {"name": name}, code="missing_field")
    if error["type"] == "model_type":
        return errors.Invalid(errors.BODY_NOT_OBJECT, code="invalid_json")
    return errors.Invalid(errors.TOO_LONG_OR_MALFORMED % {"name": name})


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
        raise errors.Invalid(errors.NUMBER_OUT_OF_RANGE, code="invalid_json")
    return int(text)


def _json_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise errors.Invalid(errors.NUMBER_OUT_OF_RANGE, code="invalid_json")
    return number


def _json_constant(text: str) -> None:
    raise errors.Invalid(errors.NOT_JSON_CONSTANT % {"text": text}, code="invalid_json")


def json_parse(raw: bytes) -> Any:
    """Parse a JSON body within the number bounds above; any failure is errors.Invalid."""
    try:
        return json.loads(
            raw,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        # JSONDecodeError is a ValueError; so is an int past Python's digit limit.
        raise errors.Invalid(errors.NOT_JSON, code="invalid_json") from None


def request_data(request: HttpRequest) -> dict[str, Any]:
    """The request's fields: a JSON object body, or the form for multipart posts.

    Cached on the request so decorators and views parse the body once.
    """
    cached: dict[str, Any] | None = getattr(request, _BODY_CACHE, None)
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
            raise errors.Invalid(errors.BODY_NOT_OBJECT, code="invalid_json")
    setattr(request, _BODY_CACHE, data)
    return data


# --- Undo on failure ---------------------------------------------------------------
# Something a request spends before its write (a proof-of-work challenge) is given
# back when the answer is a server failure (5xx, 503 outage, an exception): the
# client did its part and may retry with it. Registered by whoever spent it.
_ON_FAILURE = "_nullboard_on_failure"


def on_server_failure(request: HttpRequest, undo: Callable[[], object]) -> None:
    """Run ``undo`` if this request ends in a server failure (at most once); what it
    returns is ignored."""
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


def api(methods: Iterable[str] = ("GET",)) -> Callable[[ViewT], ViewT]:
    """Guard a view's methods with a JSON 405 and answer domain errors as JSON.

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

    def decorator(view: ViewT) -> ViewT:
        if iscoroutinefunction(view):
            async_view = cast(Callable[..., Awaitable[HttpResponse]], view)

            @functools.wraps(view)
            async def async_wrapper(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> HttpResponse:
                if (refused := refuse(request)) is not None:
                    return refused
                try:
                    response = await async_view(request, *args, **kwargs)
                except errors.Error as exc:
                    response = error_response(exc)
                # Other exceptions go on to ApiErrorMiddleware, which answers them and
                # undoes the spending when its answer is a server failure.
                if response.status_code >= 500 and has_failure_hooks(request):
                    await sync_to_async(run_failure_hooks)(request)
                return response

            return cast(ViewT, async_wrapper)

        sync_view = cast(Callable[..., HttpResponse], view)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (refused := refuse(request)) is not None:
                return refused
            try:
                response = sync_view(request, *args, **kwargs)
            except errors.Error as exc:
                response = error_response(exc)
            if response.status_code >= 500:
                run_failure_hooks(request)
            return response

        return cast(ViewT, wrapper)

    return decorator
