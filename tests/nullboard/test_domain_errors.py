"""Domain exceptions map to the JSON error shape in one place, and each message is
written once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.functional import Promise

from nullboard import errors
from nullboard.api import error_response


@pytest.mark.parametrize(
    ("exc", "status", "code", "headers"),
    [
        (errors.Invalid("bad"), 400, "invalid_field", {}),
        (errors.Invalid("bad", code="invalid_topic"), 400, "invalid_topic", {}),
        (errors.TooLarge("big"), 413, "too_large", {}),
        (errors.Forbidden(errors.NO_SESSION, code="no_session"), 403, "no_session", {}),
        (errors.NotFound(errors.NO_SUCH_POST), 404, "not_found", {}),
        (errors.Conflict("taken", code="id_taken"), 409, "id_taken", {}),
        (errors.Gone(errors.DROP_GONE), 410, "gone", {}),
        (errors.Gone(errors.HIDDEN, code="hidden"), 410, "hidden", {}),
        (errors.Throttled("slow", retry_after=42), 429, "rate_limited", {"Retry-After": "42"}),
        (errors.store_full(), 503, "store_full", {"Retry-After": "30"}),
        (errors.Unavailable("later", retry_after=5), 503, "unavailable", {"Retry-After": "5"}),
    ],
)
def test_each_domain_exception_maps_to_its_status_and_code(exc, status, code, headers):
    response = error_response(exc)
    assert response.status_code == status
    assert json.loads(response.content) == {"error": code, "detail": str(exc.detail)}
    assert response["Cache-Control"] == "no-store"
    for name, value in headers.items():
        assert response[name] == value


def test_a_domain_exception_from_a_view_is_answered_by_the_api_decorator(client):
    response = client.get("/api/posts/0123456789abcdef")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": str(errors.NO_SUCH_POST)}


def _telling(message: Promise) -> str:
    """A message's longest fixed part (around any %(name)s)."""
    return max(re.split(r"%\(\w+\)s", str(message)), key=len)


# Messages whose fixed part is too short to search for without false hits are left out.
MESSAGES = {
    name: value
    for name, value in vars(errors).items()
    if isinstance(value, Promise) and len(_telling(value)) >= 16
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_message_is_written_once(name):
    text = _telling(MESSAGES[name])
    root = Path(settings.BASE_DIR)
    sources = [
        path
        for app in ("nullboard", "boards", "drops", "moderation", "antispam")
        for path in (root / app).rglob("*.py")
    ]
    holders = [path.relative_to(root) for path in sources if text in path.read_text()]
    assert holders == [Path("nullboard/errors.py")], holders
