"""Operators' endpoints: liveness, readiness and Prometheus metrics.

``/healthz`` answers while the process can serve a request at all (no Redis call,
so a Redis outage never gets healthy web processes restarted); ``/readyz`` answers
200 only while Redis does (503 JSON otherwise), for a load balancer or a deploy's
health check; ``/metrics`` is Prometheus text, served only to a request that
carries ``METRICS_TOKEN`` as a bearer token and a plain 404 to anyone else.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from nullboard import cluster, metrics, redis_utils
from nullboard.redis_utils import OUTAGE_ERRORS

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz_view(request: HttpRequest) -> JsonResponse:
    """The process is up and serving: no Redis call."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz_view(request: HttpRequest) -> JsonResponse:
    """Redis answers a PING: 200; otherwise 503, so traffic goes elsewhere. On a
    Redis Cluster every slot's master must answer and say the cluster is ok."""
    try:
        cluster.check_ready(redis_utils.client())
    except OUTAGE_ERRORS as exc:
        metrics.REDIS_ERRORS.inc()
        logger.warning("Not ready: Redis did not answer (%s)", type(exc).__name__)
        response = JsonResponse({"status": "unavailable", "redis": "down"}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": "ok", "redis": "ok"})


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, only for the operator's token (404, not 401, for the
    rest: the endpoint does not announce itself)."""
    expected = settings.METRICS_TOKEN
    if not expected or not hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        raise Http404
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
