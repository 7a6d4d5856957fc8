"""Drops app configuration."""

from django.apps import AppConfig


class DropsConfig(AppConfig):
    """Text and voice drops."""

    name = "drops"
