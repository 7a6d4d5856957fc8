"""Template filters for drop times (Unix seconds)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def unixtime(value: int | str | None) -> datetime | None:
    """Unix seconds (a number, or its text) as an aware UTC datetime."""
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


@register.filter
def time_left(expires_at: int | str | None) -> str:
    """What is left until ``expires_at``, as the countdown shows it (m:ss)."""
    if expires_at in (None, ""):
        return ""
    seconds = max(int(expires_at) - int(time.time()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
