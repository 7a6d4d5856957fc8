"""The one place that opens Redis: the django-redis cache, its raw client, an
async client, and Lua scripts loaded once and called with EVALSHA.

With ``REDIS_URL`` unset everything runs on one in-process fakeredis server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import weakref
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.backoff
import redis.cluster
from django.conf import settings
from django_redis.exceptions import ConnectionInterrupted

if TYPE_CHECKING:
    import fakeredis  # imported when used: only the embedded store needs it

# Every key of the site starts with this, so purge and stats find them all; the
# cache and the channel layer take their prefixes from it too (settings).
NAMESPACE = "nb"
PREFIX = NAMESPACE + ":"
SITE_PATTERN = PREFIX + "*"  # SCAN pattern of every key of the site

# Errors that mean "Redis cannot serve us right now"; views turn them into 503, the
# live feed closes with 4013. A full Redis (maxmemory with noeviction refuses every
# write) is one too: it recovers by itself as keys expire. django-redis already
# wraps its errors, OOM included, in ConnectionInterrupted.
# On a Redis Cluster, a slot whose master died answers CLUSTERDOWN (or TRYAGAIN,
# or no node covers it) until a replica is promoted: an outage of that slot, not
# a bug.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.SlotNotCoveredError,
    ConnectionInterrupted,
)


def _raise_as_outage(exc: redis.exceptions.ResponseError) -> None:
    """A script's write refused for memory can come back as a plain script error;
    raise it with its real type so it is handled as the outage it is."""
    if "OOM command not allowed" in str(exc) and not isinstance(
        exc, redis.exceptions.OutOfMemoryError
    ):
        raise redis.exceptions.OutOfMemoryError(str(exc)) from exc


@cache
def embedded_server() -> fakeredis.FakeServer:
    """The single in-process fakeredis server used when REDIS_URL is unset."""
    import fakeredis

    return fakeredis.FakeServer()


def embedded_connection_kwargs() -> dict[str, Any]:
    """Connection-pool kwargs that point django-redis at the embedded server."""
    import fakeredis

    return {"connection_class": fakeredis.FakeConnection, "server": embedded_server()}


def is_embedded() -> bool:
    """True when data lives in this process only (no REDIS_URL, no cluster)."""
    return settings.REDIS_URL is None and not settings.REDIS_CLUSTER_NODES


def key(*parts: object) -> str:
    """Build a namespaced key; callers pass validated or hashed parts only."""
    return PREFIX + ":".join(str(part) for part in parts)


_PART = re.compile(r"\{(\w+)\}")


class KeyFormat:
    """One key format and the pattern matching every key it builds (Zulip's
    redis_utils style): ``KeyFormat("post:{post}", post="[0-9a-f]+")``.

    ``parts`` maps each placeholder to the regex its values fit; ``glob`` is the
    SCAN pattern and ``matches`` the whole-key check (``fullmatch``: a key with a
    trailing newline is not one of ours).

    Square brackets mark the key's Redis Cluster hash tag: ``"drop:[{id}]:receipt"``
    builds ``nb:drop:{AbC}:receipt``, and every key whose tag is the same text lives
    in the same slot, so one Lua script or MULTI may touch them together
    (docs/scaling.md, "Redis Cluster"). A key without brackets is hashed whole.
    """

    def __init__(self, template: str, **parts: str) -> None:
        names = _PART.findall(template)
        if set(names) != set(parts):
            raise ValueError(f"{template!r} needs a pattern for each of {names}")
        if template.count("[") != template.count("]") or template.count("[") > 1:
            raise ValueError(f"{template!r}: at most one [hash tag]")
        self.template = template
        self.glob = PREFIX + _tagged(_PART.sub("*", template))
        pieces = _PART.split(template)  # literal, name, literal, name, ..., literal
        regex = "".join(
            f"(?:{parts[piece]})" if index % 2 else re.escape(_tagged(piece))
            for index, piece in enumerate(pieces)
        )
        self.regex = re.compile((re.escape(PREFIX) + regex).encode())

    def __call__(self, **parts: object) -> str:
        """The key for these (validated or hashed) parts."""
        return PREFIX + _tagged(self.template.format(**parts))

    def matches(self, name: bytes | str) -> bool:
        """True when ``name`` is a whole key of this format."""
        return self.regex.fullmatch(name.encode() if isinstance(name, str) else name) is not None

    def __repr__(self) -> str:
        return f"KeyFormat({self.template!r})"


def _tagged(text: str) -> str:
    """A template's [hash tag] in Redis's braces."""
    return text.replace("[", "{").replace("]", "}")


def short_tag(name: str) -> str:
    """Four hex digits standing for ``name`` (a topic, a room): ids that start with
    them put their keys in the slot of ``name``'s keys, so a feed and its posts
    share one slot without the id naming the feed."""
    return hashlib.blake2b(name.encode(), digest_size=2, person=b"nb-slot-tag").hexdigest()


def site_keys(conn: redis.Redis | None = None, batch: int = 1000) -> Iterator[bytes]:
    """Every key of the site, by SCAN (never KEYS, which blocks Redis)."""
    conn = conn or client()
    yield from conn.scan_iter(match=SITE_PATTERN, count=batch)


def lua_table(params: Mapping[str, Any]) -> str:
    """A script's one argument: its parameters as a JSON object, which the script
    reads with ``cjson.decode(ARGV[1])``. Values a script concatenates or writes
    must be strings (Lua numbers are doubles)."""
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False)


_client: redis.Redis | None = None


def client() -> redis.Redis:
    """The raw synchronous redis-py client behind the default cache.

    One per process: a redis-py client is thread-safe over its pool, while
    django-redis would build a new one for every ASGI request context.
    """
    global _client
    if _client is None:
        from django_redis import get_redis_connection

        _client = get_redis_connection("default")
    return _client


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
    weakref.WeakKeyDictionary()
)
ASYNC_POOL_SIZE = 64  # per event loop (one per web process); a feed read holds one ~0.2 ms
_ASYNC_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}


def aclient() -> redis.asyncio.Redis:
    """An asyncio client for the running event loop (clients are loop-bound)."""
    loop = asyncio.get_running_loop()
    found = _async_clients.get(loop)
    if found is None:
        url = settings.REDIS_URL
        if settings.REDIS_CLUSTER_NODES:
            from nullboard import cluster

            # The cluster client speaks the same commands (routed by slot).
            found = cast(redis.asyncio.Redis, cluster.async_client())
        elif url is None:  # embedded
            import fakeredis

            found = fakeredis.FakeAsyncRedis(server=embedded_server())
        elif settings.REDIS_SENTINELS:
            found = _sentinel_master(url)
        else:
            # A blocking pool: a burst of concurrent requests on this loop waits a
            # moment for a connection instead of failing (a full pool would be a 503).
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                url,
                max_connections=ASYNC_POOL_SIZE,
                timeout=5,
                retry=_stale_connection_retry(),
                **_ASYNC_TIMEOUTS,
            )
            found = redis.asyncio.Redis(connection_pool=pool)
        _async_clients[loop] = found
    return found


def _stale_connection_retry() -> redis.asyncio.retry.Retry:
    """One retry, on a new connection, of a command or pipeline whose connection was
    closed: after Redis restarts (a failover, an outage), the pool still holds the
    old connections, which asyncio's check at checkout does not always see closed
    (the sync pool's does), so each would fail one request with a 503. Timeouts are
    not retried: a slow script may have run."""
    return redis.asyncio.retry.Retry(
        redis.backoff.NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)
    )


def sentinel_master(url: str) -> dict[str, Any]:
    """The master's name (as written: Sentinel names are case-sensitive), username
    and password in a ``redis://user:password@name/db`` URL, percent-decoded."""
    userinfo, _, name = urlsplit(url).netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    return {
        "service_name": unquote(name),
        "username": unquote(username) or None,
        "password": unquote(password) or None,
    }


def _sentinel_master(url: str) -> redis.asyncio.Redis:
    """An asyncio client that asks the sentinels for the master before each new
    connection, so it follows a failover; REDIS_URL names the master and the db.
    Sentinel's pool cannot wait for a free connection, so it is as large as the
    sync one (REDIS_POOL_SIZE); past that a command fails and the request is a 503."""
    from redis.asyncio.sentinel import Sentinel

    sentinel = Sentinel(
        settings.REDIS_SENTINELS,
        sentinel_kwargs=settings.REDIS_SENTINEL_KWARGS,
        **_ASYNC_TIMEOUTS,
    )
    master: redis.asyncio.Redis = sentinel.master_for(
        **sentinel_master(url),
        db=int(settings.REDIS_DB),
        max_connections=settings.REDIS_POOL_SIZE,
    )
    return master


class LuaScript:
    """A Lua file beside its module, run by EVALSHA; on NOSCRIPT (a restarted,
    flushed or newly promoted server) run once by EVAL, which caches it there.

    EVAL goes where EVALSHA went (its keys' node), where SCRIPT LOAD on a cluster
    client goes to every master and fails while any one is down: a failover of
    one master would refuse every script the process had not run yet.

    Nothing is cached per client object: under ASGI, django-redis hands each
    request context its own client, and a per-client cache kept them all alive.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, keys: list[str], args: list[Any], *, conn: redis.Redis | None = None) -> Any:
        conn = conn or client()
        try:
            try:
                return conn.evalsha(self.sha, len(keys), *keys, *args)
            except redis.exceptions.NoScriptError:
                return conn.eval(self.source, len(keys), *keys, *args)
        except redis.exceptions.ResponseError as exc:
            _raise_as_outage(exc)
            raise

    async def acall(
        self, keys: list[str], args: list[Any], *, conn: redis.asyncio.Redis | None = None
    ) -> Any:
        """The same script on this loop's asyncio client: one EVALSHA, no thread."""
        conn = conn or aclient()
        try:
            try:
                return await conn.evalsha(self.sha, len(keys), *keys, *args)
            except redis.exceptions.NoScriptError:
                return await conn.eval(self.source, len(keys), *keys, *args)
        except redis.exceptions.ResponseError as exc:
            _raise_as_outage(exc)
            raise


ScriptCall = tuple[LuaScript, list[str], list[Any]]  # a script, its keys, its arguments


def _as_answer(result: Any) -> Any:
    """A pipelined script's answer as callers see it: a write refused for memory
    that came back as a plain script error becomes the OutOfMemoryError it is."""
    if isinstance(result, redis.exceptions.ResponseError):
        try:
            _raise_as_outage(result)
        except redis.exceptions.OutOfMemoryError as exc:
            return exc
    return result


def _script_route(conn: object, keys: list[str]) -> dict[str, Any]:
    """The node a pipelined script goes to, named, on a cluster. Left to find a
    script's keys itself, redis-py's synchronous cluster pipeline asks its default
    node (COMMAND GETKEYS): a round trip per script, and a pipeline that fails on
    every slot while that node is dead, until some other error makes the client read
    the cluster's map again (a failover left drop creation refusing). A retry after
    MOVED or a lost node routes afresh."""
    if isinstance(conn, redis.cluster.RedisCluster):
        return {"target_nodes": conn.get_node_from_key(keys[0])}  # type: ignore[no-untyped-call]
    return {}


def scripts_together(calls: list[ScriptCall], *, conn: redis.Redis | None = None) -> list[Any]:
    """Several scripts, each on its own slot, in one round trip: a pipeline, not a
    transaction (each script is atomic alone, and the caller orders and undoes the
    steps so a crash between them leaves nothing half-written). On a Redis Cluster
    redis-py sends each node its share; on one server it is one round trip.

    Each answer is its script's result or the error it met (callers undo what the
    others did, then raise it). A script the server does not know yet (a restarted
    or flushed server: NOSCRIPT) is loaded and run again alone.
    """
    conn = conn or client()
    with conn.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            # The command, not pipe.evalsha: redis-py's cluster pipeline refuses that
            # method; routed by _script_route.
            pipe.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", script.sha, len(keys), *keys, *args, **_script_route(conn, keys)
            )
        results: list[Any] = pipe.execute(raise_on_error=False)
    for index, result in enumerate(results):
        if isinstance(result, redis.exceptions.NoScriptError):
            script, keys, args = calls[index]
            try:
                results[index] = script(keys, args, conn=conn)
            except redis.exceptions.RedisError as exc:
                results[index] = exc
        else:
            results[index] = _as_answer(result)
    return results


async def ascripts_together(
    calls: list[ScriptCall], *, conn: redis.asyncio.Redis | None = None
) -> list[Any]:
    """:func:`scripts_together` on this loop's asyncio client: the same scripts in
    one pipeline (not a transaction), the same answers, the same NOSCRIPT reload."""
    conn = conn or aclient()
    async with conn.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
    for index, result in enumerate(results):
        if isinstance(result, redis.exceptions.NoScriptError):
            script, keys, args = calls[index]
            try:
                results[index] = await script.acall(keys, args, conn=conn)
            except redis.exceptions.RedisError as exc:
                results[index] = exc
        else:
            results[index] = _as_answer(result)
    return results


def first_error(results: list[Any]) -> BaseException | None:
    """The first error among ``scripts_together``'s answers, if any."""
    return next((r for r in results if isinstance(r, BaseException)), None)


def lua(module_file: str, *names: str) -> LuaScript:
    """Load Lua files from the folder of ``module_file`` (pass ``__file__``) as one
    script, in order: Lua has no includes, so shared functions go first."""
    folder = Path(module_file).parent
    return LuaScript("\n".join((folder / name).read_text() for name in names))
