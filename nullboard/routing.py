"""WebSocket URL map, gathered from the apps that have live parts."""

websocket_urlpatterns: list = []
