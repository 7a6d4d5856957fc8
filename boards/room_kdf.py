"""Passphrase rooms: the key-derivation parameters a room keeps beside its key check.

The browser derives the room key from a passphrase with PBKDF2-SHA256 and a
random per-room salt; the server stores only these public parameters (never the
passphrase or the key) so every visitor's browser derives the same key.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

from django.utils.translation import gettext_lazy as _

from nullboard import errors
from nullboard.specs import refuse

KDF_VERSION = 1
KDF_ALGORITHM = "PBKDF2-SHA256"
KDF_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-SHA256
KDF_MAX_ITERATIONS = 10_000_000  # a newer page may raise it; bound the work a page is asked for
SALT_RE = re.compile(r"[A-Za-z0-9+/]{21}[AQgw]==")  # canonical base64 of 16 bytes


class RoomKdf(TypedDict):
    """One record, the same in the API body, the Redis value and the page."""

    v: int
    alg: str
    iterations: int
    salt: str  # base64 of 16 random bytes
    link: bool  # the invite link's key is needed as well as the passphrase


def kdf_clean(value: object) -> RoomKdf:
    """Check a room's ``kdf`` object (a RoomCreate spec field); refuse anything else."""
    if not isinstance(value, dict) or set(value) != {"v", "alg", "iterations", "salt", "link"}:
        raise refuse(
            "invalid_kdf", _("'kdf' must be {v, alg, iterations, salt, link} and nothing else.")
        )
    if value["v"] != KDF_VERSION or value["alg"] != KDF_ALGORITHM:
        raise refuse("invalid_kdf", _("'kdf' must be version 1, %(alg)s.") % {"alg": KDF_ALGORITHM})
    iterations = value["iterations"]
    # JSON has one number type: 600000.0 is the integer JSON Schema says it is; store an int.
    if type(iterations) is float and iterations.is_integer():
        iterations = int(iterations)
    if type(iterations) is not int or not KDF_ITERATIONS <= iterations <= KDF_MAX_ITERATIONS:
        raise refuse(
            "invalid_kdf",
            errors.OUT_OF_BOUNDS
            % {"name": "kdf.iterations", "low": KDF_ITERATIONS, "high": KDF_MAX_ITERATIONS},
        )
    salt = value["salt"]
    if not isinstance(salt, str) or not SALT_RE.fullmatch(salt):
        raise refuse("invalid_kdf", _("'kdf.salt' must be base64 of 16 random bytes."))
    if type(value["link"]) is not bool:
        raise refuse("invalid_kdf", _("'kdf.link' must be true or false."))
    link = value["link"]
    return RoomKdf(v=KDF_VERSION, alg=KDF_ALGORITHM, iterations=iterations, salt=salt, link=link)


def room_value(*, key_check: str, kdf: RoomKdf | None) -> str:
    """The room key's Redis value: "1" (no check), the key check blob, or for a
    passphrase room a JSON object with both (a blob never starts with "{")."""
    if kdf is not None:
        return json.dumps({"check": key_check, "kdf": kdf}, separators=(",", ":"))
    return key_check or "1"


def room_parse(text: str) -> dict[str, Any]:
    """The stored value back as ``{key_check, kdf}`` (kdf None for link-key rooms)."""
    if text.startswith("{"):
        data = json.loads(text)
        return {"key_check": data["check"], "kdf": data["kdf"]}
    return {"key_check": "" if text == "1" else text, "kdf": None}
