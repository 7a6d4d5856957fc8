"""The session engine: Django's cache sessions, minus one silent failure.

Django's cache backend treats any error on load as "no session", so during a
Redis outage a visitor would look anonymous (a 403) instead of getting the 503
that says "try again". Here an outage error propagates; a miss or any other
error goes on to Django's own load, which resets the session as usual.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import caches

from nullboard.redis_utils import OUTAGE_ERRORS


class SessionStore(CacheSessionStore):
    def load(self) -> dict[str, Any]:
        try:
            data = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key)
        except OUTAGE_ERRORS:
            raise
        except Exception:  # an invalid key: Django's load below resets the session
            data = None
        return data if data is not None else super().load()

    async def aload(self) -> dict[str, Any]:
        try:
            data = await caches[settings.SESSION_CACHE_ALIAS].aget(await self.acache_key())
        except OUTAGE_ERRORS:
            raise
        except Exception:
            data = None
        return data if data is not None else await super().aload()
