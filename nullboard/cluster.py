"""Redis Cluster for the site's data: ``REDIS_CLUSTER_NODES=host:port,...`` (seed
nodes; the client learns the rest from CLUSTER SHARDS and follows MOVED and
failovers).

One synchronous client per process serves django-redis (sessions, rate limits)
and :func:`nullboard.redis_utils.client`; one asyncio client per event loop
serves :func:`nullboard.redis_utils.aclient`. Keys carry hash tags so each Lua
script and each MULTI touches one slot (docs/scaling.md, "Redis Cluster").
"""

from __future__ import annotations

from functools import cache
from typing import Any

import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
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


def async_client() -> redis.asyncio.cluster.RedisCluster:
    """A new asyncio cluster client (callers keep one per event loop)."""
    return redis.asyncio.cluster.RedisCluster(
        startup_nodes=[
            redis.asyncio.cluster.ClusterNode(h, p) for h, p in settings.REDIS_CLUSTER_NODES
        ],
        max_connections=settings.REDIS_POOL_SIZE,
        **_options(redis.asyncio.retry.Retry),
    )


class ClusterClient(DefaultClient):  # type: ignore[misc]  # django-redis is untyped
    """django-redis on the cluster: every cache command (sessions, rate-limit
    counters) is single-key, so the cluster client routes it by slot."""

    def connect(self, index: int = 0) -> Any:
        return sync_client()
