"""Start-up checks for settings Django cannot judge by itself."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_ttls(app_configs, **kwargs):
    """A comment must not outlive its post, nor a drop's default life its maximum."""
    problems = []
    if settings.COMMENT_TTL_SECONDS > settings.POST_TTL_SECONDS:
        problems.append(
            Error(
                "COMMENT_TTL_SECONDS is longer than POST_TTL_SECONDS.",
                hint="Comments are capped by their post's life; lower COMMENT_TTL_SECONDS.",
                id="nullboard.E001",
            )
        )
    if settings.DROP_MAX_VIEWS > 3:
        problems.append(
            Error(
                "DROP_MAX_VIEWS is above 3; a drop has three access keys.",
                id="nullboard.E002",
            )
        )
    return problems


@register(deploy=True)
def check_embedded_store(app_configs, **kwargs):
    """Production should not run on the in-process store."""
    if settings.REDIS_URL is None:
        return [
            Warning(
                "REDIS_URL is unset: data lives in one process and is lost on restart.",
                hint="Set REDIS_URL to a Redis server for any real deployment.",
                id="nullboard.W001",
            )
        ]
    return []
