"""WebSocket URL map, gathered from the apps that have live parts."""

from django.urls import URLPattern

from boards.routing import websocket_urlpatterns as boards_websocket_urlpatterns

websocket_urlpatterns: list[URLPattern] = []
websocket_urlpatterns += boards_websocket_urlpatterns
