"""Drops' input specs: each endpoint's body declared once (see nullboard.specs).

A spec's checks may look at the request (``info.context["request"]``): whether a
file came with the body decides which fields a drop needs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pydantic import BeforeValidator, PlainValidator, ValidationInfo

from drops import sealing, services
from nullboard import errors
from nullboard.api import request_data
from nullboard.specs import Spec, check_text, from_check, refuse, text, whole_number

NOT_BOTH_SEALED = _("Send a sealed drop or a plain one, not both.")
NOT_BOTH_PLAIN = _("Send text or audio, not both.")
BAD_SEAL = _("The 'seal' object is malformed: %(reason)s")


def _files(info: ValidationInfo) -> Any:
    request = (info.context or {}).get("request")
    return request.FILES if request is not None else {}


def _text_check(value: Any, info: ValidationInfo) -> str:
    """A text drop's message: a bounded string with more than blanks in it."""
    message = check_text(value, name="text", max_length=services.TEXT_MAX_CHARS)
    if not message.strip():
        raise refuse("missing_field", errors.REQUIRED % {"name": "text"})
    return message


Ttl = Annotated[
    int,
    whole_number(
        default=lambda: settings.DROP_TTL_SECONDS,
        low=5,
        high=lambda: settings.DROP_MAX_TTL_SECONDS,
    ),
]
Views = Annotated[
    int,
    whole_number(
        default=lambda: settings.DROP_MAX_VIEWS, low=1, high=lambda: settings.DROP_MAX_VIEWS
    ),
]
Passphrase = Annotated[str, text(max_length=sealing.PASSPHRASE_MAX_CHARS, required=False)]


class DropLife(Spec):
    """How long a drop lives and how many views it gives (within the settings' bounds)."""

    ttl_seconds: Ttl = from_check()
    max_views: Views = from_check()


class DropForm(DropLife):
    """The no-JavaScript form on /drops/new (the server seals the text). It shares
    every constraint with the JSON API's plain text drop: the same field types."""

    text: Annotated[str, BeforeValidator(_text_check)] = ""
    passphrase: Passphrase = ""


def _plain_text(value: Any, info: ValidationInfo) -> str:
    if "audio" in _files(info):
        if value:
            raise refuse("invalid_field", NOT_BOTH_PLAIN)
        return ""
    return _text_check(value, info)


class PlainDropCreate(DropLife):
    """POST /api/drops sealed on the server: ``text``, or an ``audio`` file."""

    passphrase: Passphrase = ""
    text: Annotated[str, BeforeValidator(_plain_text)] = ""


def _bad_seal(reason: str) -> Exception:
    return refuse("invalid_seal", BAD_SEAL % {"reason": reason})


def seal_check(raw: Any, info: ValidationInfo) -> services.SealInput:
    """The browser's ``seal`` object, checked field by field (400 on anything off)."""
    request = (info.context or {}).get("request")
    data = request_data(request) if request is not None else {}
    if "audio" in _files(info) or data.get("text"):
        raise refuse("invalid_field", NOT_BOTH_SEALED)
    if isinstance(raw, str) and len(raw) <= 4096:
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise _bad_seal("not JSON.") from None
    if not isinstance(raw, dict):
        raise _bad_seal("it must be an object.")
    if raw.get("v") != sealing.VERSION or type(raw.get("v")) is not int:
        raise _bad_seal(f"'v' must be {sealing.VERSION}.")
    drop_id = raw.get("id")
    if not isinstance(drop_id, str) or not services.DROP_ID.fullmatch(drop_id):
        raise _bad_seal("'id' must be 16 URL-safe base64 characters.")
    iterations = raw.get("iterations")
    if iterations not in (0, sealing.PASSPHRASE_ITERATIONS) or type(iterations) is not int:
        raise _bad_seal(f"'iterations' must be 0 or {sealing.PASSPHRASE_ITERATIONS}.")
    keys = raw.get("keys")
    if not isinstance(keys, list) or len(keys) != services.KEYS_PER_DROP:
        raise _bad_seal(f"'keys' must list {services.KEYS_PER_DROP} keys.")
    try:
        salt = sealing.b64decode(raw.get("salt"), size=sealing.SALT_BYTES)
        if not all(isinstance(k, dict) for k in keys):
            raise ValueError("each key must be an object")
        verifiers = [sealing.b64decode(k.get("verifier"), size=sealing.KEY_BYTES) for k in keys]
        wrapped = [sealing.b64decode(k.get("wrapped"), size=sealing.WRAPPED_BYTES) for k in keys]
    except ValueError as exc:
        raise _bad_seal(f"{exc}.") from None
    return services.SealInput(drop_id, salt, iterations, verifiers, wrapped)


def _mime(value: Any, info: ValidationInfo) -> str:
    if "ciphertext" not in _files(info):
        return ""
    if value not in services.VOICE_TYPES:
        types = ", ".join(services.VOICE_TYPES)
        raise refuse("invalid_field", _("'mime' must be one of %(types)s.") % {"types": types})
    mime: str = value  # one of VOICE_TYPES
    return mime


def _ciphertext(value: Any, info: ValidationInfo) -> bytes:
    if "ciphertext" in _files(info):
        return b""  # a voice note: the upload itself (its size is checked before the work)
    try:
        ciphertext = sealing.b64decode(value, max_size=services.TEXT_MAX_SEALED)
    except ValueError as exc:
        detail = _("'ciphertext' must be base64: %(reason)s.") % {"reason": exc}
        raise refuse("invalid_field", detail) from None
    if len(ciphertext) <= sealing.SEAL_OVERHEAD:
        raise refuse("invalid_field", _("'ciphertext' is too short to hold a message."))
    return ciphertext


class SealedDropCreate(DropLife):
    """POST /api/drops sealed in the browser: ``seal`` and the ``ciphertext`` (base64
    in JSON for text; a ``ciphertext`` file and its ``mime`` for voice)."""

    seal: Annotated[services.SealInput, PlainValidator(seal_check)]
    mime: Annotated[str, BeforeValidator(_mime)] = ""
    ciphertext: Annotated[bytes, PlainValidator(_ciphertext)] = from_check()


def _verifier(value: Any) -> bytes:
    try:
        return sealing.b64decode(value, size=sealing.KEY_BYTES)
    except ValueError as exc:
        raise refuse("invalid_field", _("'verifier': %(reason)s.") % {"reason": exc}) from None


class OpenByVerifier(Spec):
    """POST /api/drops/ID/open from the browser: the key's ``verifier`` only."""

    verifier: Annotated[bytes, PlainValidator(_verifier)]


class OpenByKey(Spec):
    """POST /api/drops/ID/open from a program: the ``key`` (and ``passphrase``)."""

    key: Annotated[str, text(max_length=100)] = ""
    passphrase: Passphrase = ""
