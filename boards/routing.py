"""Boards WebSocket routes."""

from django.urls import path

from boards.consumers import FeedConsumer

websocket_urlpatterns = [
    # django-stubs' path() takes Django views only; Channels routes ASGI applications
    # with it (its documented use), which the stub has no overload for.
    path("ws/feed/", FeedConsumer.as_asgi(), name="live-feed"),  # type: ignore[arg-type]
]
