"""Boards WebSocket routes."""

from django.urls import path

from boards.consumers import FeedConsumer

websocket_urlpatterns = [
    path("ws/feed/", FeedConsumer.as_asgi(), name="live-feed"),
]
