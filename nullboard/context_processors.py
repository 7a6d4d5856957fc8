"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from moderation.repository import REASON_LABELS
from nullboard.routing import websocket_urlpatterns

# URL names the scripts use. A path argument comes as ":name" (reverse() keeps the
# colon), which static/js/config.js fills in, encoded, from what the script has.
CLIENT_URLS = {
    "topic": {"topic": ":topic"},
    "room": {"room": ":room"},
    "post": {"post_id": ":post_id"},
    "rules": {},
    "api-session": {},
    "api-posts": {},
    "api-post": {"post_id": ":post_id"},
    "api-comments": {"post_id": ":post_id"},
    "api-rooms": {},
    "api-flags": {},
    "api-drops": {},
    "api-drop-open": {"drop_id": ":drop_id"},
}


def site(request: HttpRequest) -> dict[str, str]:
    return {"site_name": settings.SITE_NAME}


def _live_path() -> str:
    """The live feed socket's path, from the WebSocket routes (Django cannot reverse them)."""
    route = next(pattern for pattern in websocket_urlpatterns if pattern.name == "live-feed")
    return f"/{route.pattern}"


def client_config(request: HttpRequest) -> dict[str, object]:
    """What scripts need from the server, handed over by base.html's json_script
    block: URLs (never hard-coded in static/) and the flag reasons moderation takes."""
    return {
        "client_config": {
            "urls": {name: reverse(name, kwargs=kwargs) for name, kwargs in CLIENT_URLS.items()},
            "live": _live_path(),
            "flag_reasons": [
                {"reason": reason, "label": label} for reason, label in REASON_LABELS.items()
            ],
        }
    }
