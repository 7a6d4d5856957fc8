"""Moderation URLs."""

from django.urls import path

from moderation import views

urlpatterns = [
    path("api/flags", views.flags_view, name="api-flags"),
    path("rules", views.rules_view, name="rules"),
    path("moderation", views.moderation_log_view, name="moderation-log"),
]
