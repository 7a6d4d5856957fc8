"""Moderation URLs."""

from django.urls import path

from moderation import views

urlpatterns = [
    path("api/flags", views.flags_view, name="api-flags"),
]
