"""Anonymous identity: a cache-backed session with a throwaway name.

A page view stores nothing: a visitor without a session gets a name carried in a
signed cookie (no Redis), so it stays the same across pages. The session, in
Redis, starts with the visitor's first write (``POST /api/session``), under that
same name. Filling Redis therefore costs a write (rate-limited), not a page view.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from nullboard import errors
from nullboard.words import ADJECTIVES, NOUNS

_NAME = "nb_name"
_SID = "nb_sid"
NAME_COOKIE = "nb_name"
_NAME_SALT = "nullboard.identity.name"
_NAME_SHAPE = re.compile(r"[a-z]{2,20}-[a-z]{2,20}-[1-9][0-9]{3}")
_PENDING = "_nullboard_name_cookie"


@dataclass(frozen=True)
class Identity:
    sid: str  # "" until the first write starts a session
    username: str


def username_generate() -> str:
    """A random ``adjective-noun-NNNN`` name."""
    number = 1000 + secrets.randbelow(9000)
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}-{number}"


def name_from_cookie(value: str | None) -> str | None:
    """The name a signed name cookie carries, or None (absent, forged, expired)."""
    if not value:
        return None
    try:
        name = signing.get_cookie_signer(salt=_NAME_SALT).unsign(
            value, max_age=settings.SESSION_TTL_SECONDS
        )
    except signing.BadSignature:
        return None
    return name if _NAME_SHAPE.fullmatch(name) else None


def name_from_scope(scope: Mapping[str, Any]) -> str | None:
    """The visitor's name on a WebSocket: the session's, else the name cookie's."""
    session = scope.get("session")
    name = session.get(_NAME) if session is not None else None
    return name or name_from_cookie(scope.get("cookies", {}).get(NAME_COOKIE))


def identity_peek(request: HttpRequest) -> Identity | None:
    """The visitor's identity if the request carries a live session, else None."""
    session = request.session
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    name, sid = session.get(_NAME), session.get(_SID)
    if not name or not sid:
        return None
    return Identity(sid=sid, username=name)


def identity_require(request: HttpRequest) -> Identity:
    """The visitor's identity; errors.Forbidden when the request has no live session."""
    identity = identity_peek(request)
    if identity is None:
        raise errors.Forbidden(errors.NO_SESSION, code="no_session")
    return identity


async def aidentity_require(request: HttpRequest) -> Identity:
    """:func:`identity_require` on the event loop (the session loads asynchronously)."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        session = request.session
        name, sid = await session.aget(_NAME), await session.aget(_SID)
        if name and sid:
            return Identity(sid=sid, username=name)
    raise errors.Forbidden(errors.NO_SESSION, code="no_session")


def identity_ensure(request: HttpRequest, *, refresh: bool = False) -> Identity:
    """The visitor's identity.

    Without ``refresh`` (a page view) nothing is stored: a visitor with no session
    gets the name from the signed cookie, or a new one that the cookie will carry.
    With ``refresh`` (the session endpoint) the session is created or refreshed,
    keeping that name, and saved here, inside the view, so a Redis outage
    surfaces as a clean 503 rather than a failure in the response middleware.
    """
    session = request.session
    name, sid = session.get(_NAME), session.get(_SID)
    if name and sid and not refresh:
        return Identity(sid=sid, username=name)
    if not name or not sid:
        name = name_from_cookie(request.COOKIES.get(NAME_COOKIE)) or username_generate()
        if not refresh:
            setattr(request, _PENDING, name)
            return Identity(sid="", username=name)
        sid = secrets.token_urlsafe(16)
        session[_NAME], session[_SID] = name, sid
    session.set_expiry(settings.SESSION_TTL_SECONDS)
    session.save()
    return Identity(sid=sid, username=name)


def identity_refreshed(request: HttpRequest) -> Identity:
    """The session endpoint's identity from a loaded session: its name and sid, or a
    new sid under the visitor's name (cookie or new); the session then needs a save
    (the caller's, batched with its challenge)."""
    session = request.session
    name, sid = session.get(_NAME), session.get(_SID)
    if not name or not sid:
        name = name_from_cookie(request.COOKIES.get(NAME_COOKIE)) or username_generate()
        sid = secrets.token_urlsafe(16)
        session[_NAME], session[_SID] = name, sid
    session.set_expiry(settings.SESSION_TTL_SECONDS)
    return Identity(sid=sid, username=name)


def name_cookie_set(request: HttpRequest, response: HttpResponseBase) -> None:
    """Set the signed name cookie a page view asked for (see identity_ensure)."""
    name = getattr(request, _PENDING, None)
    if name is None or name_from_cookie(request.COOKIES.get(NAME_COOKIE)) == name:
        return  # nothing asked, or the cookie already says so
    response.set_cookie(
        NAME_COOKIE,
        signing.get_cookie_signer(salt=_NAME_SALT).sign(name),
        max_age=settings.SESSION_TTL_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
