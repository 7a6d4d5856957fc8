"""Domain exceptions and the messages they carry, each message written once.

Domain code (services, selectors, the proof of work, input specs) raises these;
it never builds a response. One place, :func:`nullboard.api.error_response`,
turns any of them into the JSON error shape ``{"error": code, "detail": text}``
with the class's status. Messages are lazy so a translator can take them over.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# --- Messages (each written once) --------------------------------------------------
NO_SUCH_POST = _("No such post; it may have expired.")
NO_SUCH_COMMENT = _("No such comment; it may have expired.")
NO_SUCH_ROOM = _("No such room; it may have expired.")
HIDDEN = _("Hidden by community flags until a moderator reviews it.")
DROP_GONE = _("This drop is gone: it expired, was burned, or never existed.")
NO_SESSION = _("Call POST /api/session first.")
STORE_FULL = _("The store is full right now; nothing was spent. Try again shortly.")
NOT_JSON = _("The body is not valid JSON.")
NOT_JSON_CONSTANT = _("%(text)s is not JSON.")
NUMBER_OUT_OF_RANGE = _("A number in the body is out of range.")
BODY_NOT_OBJECT = _("The body must be a JSON object.")
REQUIRED = _("'%(name)s' is required.")
NOT_A_STRING = _("'%(name)s' must be a string.")
TOO_LONG_OR_MALFORMED = _("'%(name)s' is too long or malformed.")
NOT_WHOLE = _("'%(name)s' must be a whole number.")
OUT_OF_BOUNDS = _("'%(name)s' must be between %(low)s and %(high)s.")
VOICE_TOO_LARGE = _("A voice note may be at most %(limit)s bytes.")


Detail = str | Promise


class Error(Exception):
    """An expected refusal. Subclasses fix the status; ``code`` names the refusal
    in the JSON body (a subclass's default, or the one given)."""

    status = 400
    code = "invalid"

    def __init__(
        self, detail: Detail, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(str(detail))
        self.detail = detail
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})


class Invalid(Error):
    """The input breaks a rule of its spec (400)."""

    code = "invalid_field"


class TooLarge(Error):
    """The input is over a size limit (413)."""

    status = 413
    code = "too_large"


class Forbidden(Error):
    """The caller may not do this: no session, a bad proof of work, a wrong key (403)."""

    status = 403
    code = "forbidden"


class NotFound(Error):
    """The thing asked for does not exist, or no longer does (404)."""

    status = 404
    code = "not_found"


class Conflict(Error):
    """The request clashes with what is stored (409)."""

    status = 409
    code = "conflict"


class Gone(Error):
    """The thing existed but may not be shown any more (410)."""

    status = 410
    code = "gone"


class Throttled(Error):
    """Too many of these lately; ``retry_after`` seconds until the next try (429)."""

    status = 429
    code = "rate_limited"

    def __init__(self, detail: Detail, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(Error):
    """The server cannot take this now; ``retry_after`` seconds until the next try (503)."""

    status = 503
    code = "unavailable"

    def __init__(self, detail: Detail, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def store_full() -> Unavailable:
    """Redis is at its memory limit: nothing was spent, try again shortly."""
    return Unavailable(STORE_FULL, retry_after=30, code="store_full")
