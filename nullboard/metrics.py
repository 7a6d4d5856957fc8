"""Prometheus metrics (``prometheus-client``), served by ``nullboard.health``.

No label carries an id, a room, a session, a name or an address: routes are URL
*names* (``post-detail``, never ``/p/3f2a…``), statuses are numbers and kinds are
fixed words. Each web process counts its own; with several processes on one
machine, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by them and
``/metrics`` answers for all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import ResolverMatch
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from nullboard.middleware_base import BothModes

REQUESTS = Counter(
    "nullboard_http_requests",
    "HTTP requests answered, by route name.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "nullboard_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LIVE_SOCKETS = Gauge(
    "nullboard_live_sockets", "Open live-feed WebSockets.", multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("nullboard_live_events_published", "Live events published.")
EVENTS_DELIVERED = Counter("nullboard_live_events_delivered", "Live events sent to sockets.")
REDIS_ERRORS = Counter("nullboard_redis_errors", "Requests or sockets that met a Redis outage.")
POW_DIFFICULTY = Gauge(
    "nullboard_pow_difficulty",
    "Proof-of-work difficulty (leading zero bits) of the last challenge issued.",
    multiprocess_mode="max",
)
DROPS_CREATED = Counter("nullboard_drops_created", "Drops created.", ["kind"])
DROPS_OPENED = Counter("nullboard_drops_opened", "Drop views served (a key spent).")
DROPS_BURNED = Counter(
    "nullboard_drops_burned", "Drops burned before their time: last view or receipt.", ["reason"]
)
DROPS_SWEPT = Counter("nullboard_drops_swept", "Expired drops whose files the sweeper removed.")
MEDIA_BYTES = Counter("nullboard_drop_media_bytes", "Bytes of sealed voice media stored.")


def exposition() -> tuple[bytes, str]:
    """The text format for every metric of this process (or of all processes
    sharing PROMETHEUS_MULTIPROC_DIR)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name: never the path, which may hold an id or a room."""
    match: ResolverMatch | None = getattr(request, "resolver_match", None)
    if match is not None and match.url_name:
        return match.url_name
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware(BothModes):
    """Counts every answer by route name, method and status, and times it.

    Outermost in MIDDLEWARE, so what it times is what the client waited for
    (the random write delays included)."""

    def call(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.respond(request)
        self._record(request, response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = await self.arespond(request)
        self._record(request, response, started)
        return response

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
        route = route_of(request)
        method = request.method if request.method in _METHODS else "OTHER"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
