"""Drops URLs: pages and the JSON API."""

urlpatterns: list = []
