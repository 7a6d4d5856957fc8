"""Input specs: each endpoint declares its body (or query) once as a pydantic model.

Why pydantic rather than Django forms: the API is JSON-first (nested objects,
numbers, booleans), a spec doubles as documentation, and it is what
healthchecks does (``Spec.model_validate(data, strict=True)``). Fields are
checked in declaration order and the first refusal wins (see
:func:`nullboard.api.spec_parse`), so a spec lists its fields in the order the
endpoint has always checked them. A check refuses with :func:`refuse`, which
carries the endpoint's error code and detail through pydantic unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from nullboard import errors


class Spec(BaseModel):
    """Base of every input spec: immutable, unknown fields ignored, and defaults
    validated too (an absent field meets the same check as an empty one)."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)


def refuse(code: str, detail: errors.Detail, *, status: int = 400) -> PydanticCustomError:
    """A refusal a check raises: ``code`` and ``detail`` reach the JSON body as given."""
    # The detail rides in the context (a template would read braces in it as fields).
    return PydanticCustomError(code, "{detail}", {"detail": str(detail), "status": status})


Bound = int | Callable[[], int]


def _bound(value: Bound) -> int:
    return value() if callable(value) else value


def encodable(value: str) -> bool:
    """False for text JSON can carry but UTF-8 cannot (lone surrogates)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: Any, *, name: str, max_length: Bound = 200, required: bool = True) -> str:
    """A string: absent, null and "" are missing; else a bounded, NUL-free,
    UTF-8-encodable string (``invalid_field``)."""
    if value is None or value == "":
        if required:
            raise refuse("missing_field", errors.REQUIRED % {"name": name})
        return ""
    if not isinstance(value, str):
        raise refuse("invalid_field", errors.NOT_A_STRING % {"name": name})
    if len(value) > _bound(max_length) or "\x00" in value or not encodable(value):
        raise refuse("invalid_field", errors.TOO_LONG_OR_MALFORMED % {"name": name})
    return value


def text(*, max_length: Bound = 200, required: bool = True) -> BeforeValidator:
    """A string field checked by :func:`check_text`."""

    def check(value: Any, info: ValidationInfo) -> str:
        return check_text(
            value, name=str(info.field_name), max_length=max_length, required=required
        )

    return BeforeValidator(check)


def check_whole(value: Any, *, name: str, default: Bound, low: Bound, high: Bound) -> int:
    """A whole number within bounds (``invalid_field``); absent or "" is the default.
    JSON's 188.0 is the whole number 188; a form's "188" is too."""
    if value is None or value == "":
        return _bound(default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool | float):
        raise refuse("invalid_field", errors.NOT_WHOLE % {"name": name})
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise refuse("invalid_field", errors.NOT_WHOLE % {"name": name}) from None
    lo, hi = _bound(low), _bound(high)
    if not lo <= number <= hi:
        raise refuse("invalid_field", errors.OUT_OF_BOUNDS % {"name": name, "low": lo, "high": hi})
    return number


def from_check() -> Any:
    """The default of a field whose check makes its value: an absent field reaches the
    check as None (defaults are validated) and comes out as the check's default. So
    the default is the check's input, not a value of the field's type."""
    return Field(None)


def whole_number(*, default: Bound, low: Bound, high: Bound) -> BeforeValidator:
    """A whole-number field checked by :func:`check_whole` (declare it ``= from_check()``
    so an absent field takes the default)."""

    def check(value: Any, info: ValidationInfo) -> int:
        name = str(info.field_name)
        return check_whole(value, name=name, default=default, low=low, high=high)

    return BeforeValidator(check)
