"""Anonymous identity: a cache-backed session with a throwaway name."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from nullboard.words import ADJECTIVES, NOUNS

_NAME = "nb_name"
_SID = "nb_sid"


@dataclass(frozen=True)
class Identity:
    sid: str
    username: str


def username_generate() -> str:
    """A random ``adjective-noun-NNNN`` name."""
    number = 1000 + secrets.randbelow(9000)
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}-{number}"


def identity_peek(request: HttpRequest) -> Identity | None:
    """The visitor's identity if the request carries a live session, else None."""
    session = request.session
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    name, sid = session.get(_NAME), session.get(_SID)
    if not name or not sid:
        return None
    return Identity(sid=sid, username=name)


def identity_ensure(request: HttpRequest, *, refresh: bool = False) -> Identity:
    """The visitor's identity, creating the session if needed.

    The session is saved here, inside the view, so a Redis outage surfaces as
    a clean 503 rather than a failure in the response middleware.
    """
    session = request.session
    name, sid = session.get(_NAME), session.get(_SID)
    if not name or not sid:
        name, sid = username_generate(), secrets.token_urlsafe(16)
        session[_NAME], session[_SID] = name, sid
        refresh = True
    if refresh:
        session.set_expiry(settings.SESSION_TTL_SECONDS)
        session.save()
    return Identity(sid=sid, username=name)
