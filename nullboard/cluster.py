"""Redis Cluster for the site's data: ``REDIS_CLUSTER_NODES=host:port,...`` (seed
nodes; the client learns the rest from CLUSTER SHARDS and follows MOVED and
failovers).

One synchronous client per process serves django-redis (sessions, rate limits)
and :func:`nullboard.redis_utils.client`; one asyncio client per event loop
serves :func:`nullboard.redis_utils.aclient`. Keys carry hash tags so each Lua
script and each MULTI touches one slot (docs/scaling.md, "Redis Cluster").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, cast

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.exceptions
import redis.retry
from django.conf import settings
from django_redis.client import DefaultClient
from redis.backoff import ExponentialBackoff

# A failover takes the cluster's node timeout plus an election (about 2 s at
# cluster-node-timeout 1000, 15-20 s at Redis's default); a command retries a few
# times across it, then the request answers 503 and the client tries again later.
RETRIES = 3
_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}


def enabled() -> bool:
    """True when the site's data lives on a Redis Cluster."""
    return bool(settings.REDIS_CLUSTER_NODES)


def _options(retry: type[redis.retry.Retry] | type[redis.asyncio.retry.Retry]) -> dict[str, Any]:
    return {
        **_TIMEOUTS,
        "password": settings.REDIS_CLUSTER_PASSWORD,
        "retry": retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
        # Coverage is checked per command, so a cluster missing a slot still
        # serves every other slot.
        "require_full_coverage": False,
    }


@cache
def sync_client() -> redis.cluster.RedisCluster:
    """This process's synchronous cluster client (thread-safe over per-node pools;
    built once, because discovering the cluster costs a round trip per seed)."""
    return redis.cluster.RedisCluster(
        startup_nodes=[
            redis.cluster.ClusterNode(h, p)  # type: ignore[no-untyped-call]
            for h, p in settings.REDIS_CLUSTER_NODES
        ],
        max_connections=settings.REDIS_POOL_SIZE,
        **_options(redis.retry.Retry),
    )


class LoopConnection(redis.asyncio.Connection):
    """A connection whose write on a transport closed under it is the
    ConnectionError it is. During a failover the cluster client closes a node's
    connections while another request may still be connecting on one; uvloop then
    raises RuntimeError ("the handler is closed") where redis-py expects an OSError,
    and the request failed with a 500 instead of being retried or answered 503."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except RuntimeError as exc:  # redis-py has dropped the connection already
            raise redis.exceptions.ConnectionError(
                f"Writing on a closed connection: {exc}"
            ) from exc


def async_client() -> redis.asyncio.cluster.RedisCluster:
    """A new asyncio cluster client (callers keep one per event loop)."""
    found = redis.asyncio.cluster.RedisCluster(
        startup_nodes=[
            redis.asyncio.cluster.ClusterNode(h, p) for h, p in settings.REDIS_CLUSTER_NODES
        ],
        max_connections=settings.REDIS_POOL_SIZE,
        **_options(redis.asyncio.retry.Retry),
    )
    # The nodes it discovers connect with these arguments (its constructor takes no
    # connection class; the seeds are asked for the map only).
    found.get_connection_kwargs()["connection_class"] = LoopConnection
    return found


class ClusterClient(DefaultClient):  # type: ignore[misc]  # django-redis is untyped
    """django-redis on the cluster: every cache command (sessions, rate-limit
    counters) is single-key, so the cluster client routes it by slot."""

    def connect(self, index: int = 0) -> Any:
        return sync_client()


SLOTS = 16384


def _serving(conn: redis.cluster.RedisCluster) -> None:
    """Raise an outage error unless every slot has a master, every such master
    answers, and each says the cluster is ok."""
    slots = conn.nodes_manager.slots_cache
    if len(slots) < SLOTS or any(not nodes for nodes in slots.values()):
        raise redis.exceptions.SlotNotCoveredError("a slot has no master")
    masters = {nodes[0].name: nodes[0] for nodes in slots.values()}
    for node in masters.values():
        info = conn.cluster_info(target_nodes=cast(Any, node))
        if info.get("cluster_state") != "ok":
            raise redis.exceptions.ClusterDownError(f"cluster_state:{info.get('cluster_state')}")


def check_ready(conn: object) -> None:
    """Readiness (``/readyz``): one server answers a PING; on a cluster, every slot's
    master answers and says the cluster is ok. Raises one of ``OUTAGE_ERRORS``
    otherwise.

    On a cluster a failed check asks for the map once more before answering, so a
    failover that has already promoted a replica is ready, not an outage of this
    client's stale map."""
    if not isinstance(conn, redis.cluster.RedisCluster):
        cast(redis.Redis, conn).ping()
        return
    try:
        _serving(conn)
    except (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        redis.exceptions.ClusterDownError,
        redis.exceptions.SlotNotCoveredError,
    ):
        conn.nodes_manager.initialize()
        _serving(conn)


def used_memory(conn: object) -> int:
    """Bytes of memory Redis uses (stats): one server's, or a cluster's masters' sum."""
    if isinstance(conn, redis.cluster.RedisCluster):
        # One node at a time: redis-py answers a one-node target without the node's name.
        primaries = conn.get_primaries()  # type: ignore[no-untyped-call]
        found: list[dict[str, Any]] = [conn.info("memory", target_nodes=node) for node in primaries]
        return sum(int(info.get("used_memory", 0)) for info in found)
    return int(cast(redis.Redis, conn).info("memory").get("used_memory", 0))
