"""Redis key formats of the project package and the patterns that match them."""

from __future__ import annotations

from django.contrib.sessions.backends.cache import KEY_PREFIX as SESSION_KEY_PREFIX

from nullboard.redis_utils import KeyFormat

# A session in the django-redis cache: the cache adds the prefix and its key version.
SESSION = KeyFormat(
    "{version}:" + SESSION_KEY_PREFIX + "{session}", version=r"\d+", session="[a-z0-9]+"
)
