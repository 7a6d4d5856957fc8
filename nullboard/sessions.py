"""The session engine: Django's cache sessions, minus one silent failure and
the round trips a write does not need.

Django's cache backend treats any error on load as "no session", so during a
Redis outage a visitor would look anonymous (a 403) instead of getting the 503
that says "try again". Here an outage error propagates; a miss or any other
error goes on to Django's own load, which resets the session as usual.

A save is one ``SET`` (``NX`` to create, ``XX`` to update: Django reads the key
first to tell an update from a session deleted meanwhile), and a session saved
once in a request is not written again unless it changed (the view saves it to
surface an outage as a 503; the middleware would save the same bytes again).
The async methods use the event loop's Redis client, in django-redis's key and
value format, so an async view never hops to a thread for its session.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio.client
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import caches
from django.utils.crypto import get_random_string
from django_redis.cache import RedisCache

from nullboard import redis_utils
from nullboard.redis_utils import OUTAGE_ERRORS


class SessionStore(CacheSessionStore):
    # What this request last wrote (None: nothing yet), to skip an identical save.
    _saved: dict[str, Any] | None = None
    _queued: dict[str, Any]
    _queued_create = False

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
            raw = await redis_utils.aclient().get(self._redis_key(await self.acache_key()))
            data = _cache().client.decode(raw) if raw is not None else None
        except OUTAGE_ERRORS:
            raise
        except Exception:
            data = None
        if data is not None:
            return cast(dict[str, Any], data)
        self._session_key = None
        return {}

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if not must_create:
            self.get("")  # loads the session, once (as Django's save does)
        data = self._data()
        if not must_create and self._saved == data:
            return
        stored = _cache().set(
            self.cache_key, data, self.get_expiry_age(), nx=must_create, xx=not must_create
        )
        self._stored(stored, data, must_create)

    async def asave(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return await self.acreate()
        if not must_create:
            await self.aget("")  # loads the session, once
        data = self._data()
        if not must_create and self._saved == data:
            return
        stored = await redis_utils.aclient().set(
            self._redis_key(await self.acache_key()),
            _cache().client.encode(data),
            ex=await self.aget_expiry_age(),
            nx=must_create,
            xx=not must_create,
        )
        self._stored(bool(stored), data, must_create)

    async def aexists(self, session_key: str) -> bool:
        """Django's check for a new key, on the loop's client (its default is a thread)."""
        if not session_key:
            return False
        name = self._redis_key(self.cache_key_prefix + session_key)
        return bool(await redis_utils.aclient().exists(name))

    # --- in a caller's pipeline (a view batching its round trips) -------------------
    def queue_load(self, pipe: redis.asyncio.client.Pipeline) -> bool:
        """Queue this session's load on ``pipe``; False (nothing queued) when there is
        nothing to read: no session key, or the session is loaded already."""
        if self.session_key is None or "_session_cache" in self.__dict__:
            return False
        pipe.get(self._redis_key(self.cache_key))
        return True

    def loaded(self, raw: bytes | None) -> None:
        """Take the reply of :meth:`queue_load` as this session's data (Django's
        load semantics: nothing there, or undecodable, is a new session)."""
        try:
            data = _cache().client.decode(raw) if raw is not None else None
        except Exception:
            data = None
        if data is None:
            self._session_key = None
        self.__dict__["_session_cache"] = data if data is not None else {}

    async def queue_save(self, pipe: redis.asyncio.client.Pipeline) -> None:
        """Queue :meth:`asave`'s one SET on ``pipe`` (a new session gets its key
        here); pass its reply to :meth:`queued_saved`."""
        self._queued_create = self.session_key is None
        if self._queued_create:
            # No EXISTS first (Django's way): the SET's NX refuses a taken key.
            self._session_key = get_random_string(32, VALID_KEY_CHARS)
        data = self._data()
        self._queued = dict(data)
        pipe.set(
            self._redis_key(await self.acache_key()),
            _cache().client.encode(data),
            ex=await self.aget_expiry_age(),
            nx=self._queued_create,
            xx=not self._queued_create,
        )

    def queued_saved(self, reply: object) -> None:
        """The reply of :meth:`queue_save`'s SET: CreateError (a new key taken, which
        128 random bits make a non-event) or UpdateError (the session was deleted
        meanwhile) when nothing was stored."""
        self._stored(bool(reply), self._queued, self._queued_create)
        if self._queued_create:
            self.modified = True

    def is_saved(self) -> bool:
        """True when this request saved the session and nothing changed since."""
        return self._saved is not None and self._saved == getattr(self, "_session_cache", None)

    def _data(self) -> dict[str, Any]:
        """The session's data as Django's save writes it (a new session's, unloaded)."""
        self.accessed = True
        data: dict[str, Any] = self.__dict__.setdefault("_session_cache", {})
        return data

    def _stored(self, stored: bool, data: dict[str, Any], must_create: bool) -> None:
        if not stored:
            raise CreateError if must_create else UpdateError
        self._saved = dict(data)

    def _redis_key(self, cache_key: str) -> str:
        return str(_cache().make_key(cache_key))


def _cache() -> RedisCache:
    """The sessions' cache: django-redis (its key and value format, for the async path)."""
    return cast(RedisCache, caches[settings.SESSION_CACHE_ALIAS])
