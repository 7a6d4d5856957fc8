"""Start-up checks for settings Django cannot judge by itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
import redis.cluster
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_ttls(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """A comment must not outlive its post, nor a drop's default life its maximum."""
    problems: list[CheckMessage] = []
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
def check_embedded_store(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Production should not run on the in-process store."""
    from nullboard.redis_utils import is_embedded

    if is_embedded():  # neither REDIS_URL nor REDIS_CLUSTER_NODES
        return [
            Warning(
                "REDIS_URL is unset: data lives in one process and is lost on restart.",
                hint="Set REDIS_URL to a Redis server for any real deployment.",
                id="nullboard.W001",
            )
        ]
    return []


# Policies under which Redis, when full, refuses writes instead of deleting keys.
SAFE_EVICTION_POLICIES = frozenset({"noeviction"})


def _eviction_policies(conn: redis.Redis | redis.cluster.RedisCluster) -> list[object]:
    """maxmemory-policy of one server, or of each master of a cluster."""
    if isinstance(conn, redis.cluster.RedisCluster):
        primaries = conn.get_primaries()  # type: ignore[no-untyped-call]
        return [conn.info("memory", target_nodes=n).get("maxmemory_policy") for n in primaries]
    return [conn.info("memory").get("maxmemory_policy")]


def redis_eviction_problems(conn: redis.Redis | redis.cluster.RedisCluster) -> list[CheckMessage]:
    """W002 when ``conn``'s maxmemory-policy (any master's, on a cluster) may evict
    keys (INFO, not CONFIG, so it also works on managed Redis that hides CONFIG);
    nothing when unreachable."""
    from nullboard.redis_utils import OUTAGE_ERRORS

    unreachable: tuple[type[BaseException], ...] = (*OUTAGE_ERRORS, redis.exceptions.RedisError)
    try:
        found = _eviction_policies(conn)
    except unreachable:
        return []  # unreachable: /readyz and the 503s say so at run time
    policies = {p.decode() if isinstance(p, bytes) else p for p in found}
    unsafe = sorted(str(p) for p in policies if p is not None and p not in SAFE_EVICTION_POLICIES)
    if not unsafe:
        return []
    policy = ", ".join(unsafe)
    return [
        Warning(
            f"Redis maxmemory-policy is {policy}: when memory is full, Redis deletes "
            "keys the site needs (live drops and their keys, sessions, proof-of-work "
            "challenges, rate-limit counters) without telling anyone.",
            hint=(
                "Set maxmemory-policy to noeviction: a full Redis then refuses writes, "
                "which the site answers with 503 until keys expire (docs/scaling.md)."
            ),
            id="nullboard.W002",
        )
    ]


@register()
def check_redis_eviction(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when Redis may evict keys (any maxmemory-policy but noeviction)."""
    from nullboard.redis_utils import is_embedded

    if is_embedded():
        return []
    from nullboard.redis_utils import client

    return redis_eviction_problems(client())


# --- Deploy checks Django keys on its own middleware's path ---------------------------
# settings.MIDDLEWARE lists nullboard.middleware's classes, which run Django's own
# Security, CSRF, X-Frame-Options and session middleware (see there); Django's
# checks look for Django's paths only, so the same checks are repeated here.


def _runs(name: str) -> bool:
    return f"nullboard.middleware.{name}" in settings.MIDDLEWARE


@register(deploy=True)
def check_wrapped_middleware(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """What Django's security.W001-W022 ask of its middleware, for ours."""
    found: list[CheckMessage] = []

    def warn(code: int, message: str) -> None:
        found.append(Warning(message, id=f"nullboard.W{code}"))

    for code, name in (
        (101, "SecurityMiddleware"),
        (102, "XFrameOptionsMiddleware"),
        (103, "CsrfViewMiddleware"),
    ):
        if not _runs(name):
            warn(code, f"nullboard.middleware.{name} is not in MIDDLEWARE.")
    if _runs("SecurityMiddleware"):
        if not settings.SECURE_HSTS_SECONDS:
            warn(104, "SECURE_HSTS_SECONDS is not set: no HSTS header.")
        elif not settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            warn(105, "SECURE_HSTS_INCLUDE_SUBDOMAINS is not True.")
        elif not settings.SECURE_HSTS_PRELOAD:
            warn(106, "SECURE_HSTS_PRELOAD is not True.")
        if settings.SECURE_CONTENT_TYPE_NOSNIFF is not True:
            warn(107, "SECURE_CONTENT_TYPE_NOSNIFF is not True.")
        if settings.SECURE_SSL_REDIRECT is not True:
            warn(108, "SECURE_SSL_REDIRECT is not True.")
        if not settings.SECURE_REFERRER_POLICY:
            warn(109, "SECURE_REFERRER_POLICY is not set: no Referrer-Policy header.")
    if _runs("XFrameOptionsMiddleware") and settings.X_FRAME_OPTIONS != "DENY":
        warn(110, "X_FRAME_OPTIONS is not 'DENY'.")
    if _runs("CsrfViewMiddleware") and not (
        settings.CSRF_USE_SESSIONS or settings.CSRF_COOKIE_SECURE
    ):
        warn(111, "CSRF_COOKIE_SECURE is not True.")
    if _runs("SessionMiddleware"):
        if not settings.SESSION_COOKIE_SECURE:
            warn(112, "SESSION_COOKIE_SECURE is not True.")
        if not settings.SESSION_COOKIE_HTTPONLY:
            warn(113, "SESSION_COOKIE_HTTPONLY is not True.")
    return found
