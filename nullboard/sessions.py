"""The session engine: Django's cache sessions, minus one silent failure.

Django's cache backend treats any error on load as "no session", so during a
Redis outage a visitor would look anonymous (a 403) instead of getting the 503
that says "try again". Outage errors propagate here; other errors still reset.
"""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from nullboard.redis_utils import OUTAGE_ERRORS


class SessionStore(CacheSessionStore):
    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except OUTAGE_ERRORS:
            raise
        except Exception:  # an invalid key, as in Django: reset the session
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    async def aload(self):
        try:
            session_data = await self._cache.aget(await self.acache_key())
        except OUTAGE_ERRORS:
            raise
        except Exception:
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
