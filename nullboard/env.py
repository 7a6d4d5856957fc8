"""Typed environment readers that refuse bad values instead of guessing."""

from __future__ import annotations

import os
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


@overload
def envstr(name: str, default: str) -> str: ...
@overload
def envstr(name: str, default: None = None) -> str | None: ...


def envstr(name: str, default: str | None = None) -> str | None:
    """Return the variable as text, or ``default`` when unset or blank."""
    value = _raw(name)
    return default if value is None else value


def envbool(name: str, default: bool) -> bool:
    """Return a boolean; anything but true/false/1/0/yes/no/on/off is an error."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false.")


def _whole(name: str, text: str, minimum: int | None) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: {text!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: {number} is below the minimum of {minimum}.")
    return number


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return an integer, refusing non-numbers and values below ``minimum``."""
    value = _raw(name)
    return default if value is None else _whole(name, value, minimum)


def envlist(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list, blanks dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def envint_list(name: str, default: list[int], *, minimum: int | None = None) -> list[int]:
    """A comma-separated list of whole numbers, each checked like :func:`envint`."""
    if _raw(name) is None:
        return list(default)
    return [_whole(name, item, minimum) for item in envlist(name, [])]


def envaddresses(name: str) -> list[tuple[str, int]]:
    """A comma-separated list of ``host:port`` pairs (IPv6 hosts in brackets)."""
    pairs = []
    for item in envlist(name, []):
        host, colon, port = item.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not colon or not host:
            raise ImproperlyConfigured(f"{name}: {item!r} is not host:port.")
        number = _whole(name, port, 1)
        if number > 65535:
            raise ImproperlyConfigured(f"{name}: {number} is not a port.")
        pairs.append((host, number))
    return pairs
