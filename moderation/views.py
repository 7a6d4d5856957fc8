"""Community flags (POST /api/flags), the rules and the public moderation log."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from antispam.pow import pow_verify
from antispam.ratelimit import client_address, write_limit
from boards.validation import is_item_id
from moderation import services
from moderation.log import log_days
from moderation.repository import KINDS, REASONS
from nullboard.api import ApiError, api, field, request_data
from nullboard.identity import identity_ensure, identity_peek


def _over_quota(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "flag_quota",
        f"Your network has flagged a lot lately; try again in {retry_after} s.",
        {"Retry-After": str(retry_after)},
    )


@api(methods=["POST"])
@write_limit("flags")
def flags_view(request: HttpRequest) -> JsonResponse:
    """A flag costs a proof of work and counts once per client network (see
    moderation.services.flag_create); each network has a quota per window."""
    data = request_data(request)
    kind = field(data, "type", max_length=10)
    item_id = field(data, "id", max_length=64)
    reason = field(data, "reason", max_length=20)
    if kind not in KINDS:
        raise ApiError(400, "invalid_type", "'type' must be post or comment.")
    if reason not in REASONS:
        raise ApiError(400, "invalid_reason", f"'reason' must be one of: {', '.join(REASONS)}.")
    if not is_item_id(item_id):
        raise ApiError(400, "invalid_id", "'id' is not an item id.")
    if identity_peek(request) is None:
        raise ApiError(403, "no_session", "Call POST /api/session first.")
    address = client_address(request)
    # Refused before the proof of work is spent; the script checks again atomically.
    if retry_after := services.flag_retry_after(address=address):
        raise _over_quota(retry_after)
    pow_verify(request)
    flagged = services.flag_create(kind=kind, item_id=item_id, address=address, reason=reason)
    if not flagged.result.found:
        raise ApiError(404, "not_found", f"No such {kind}; it may have expired.")
    if flagged.result.over_quota:
        raise _over_quota(flagged.result.retry_after)
    return JsonResponse({"status": "received", "hidden": flagged.hidden}, status=202)


def rules_view(request: HttpRequest) -> HttpResponse:
    """The community rules; operators replace the text with RULES_TEMPLATE or a
    project template at ``templates/moderation/rules.html`` (see README)."""
    context = {"identity": identity_ensure(request), "nav": "rules"}
    return render(request, settings.RULES_TEMPLATE, context)


def moderation_log_view(request: HttpRequest) -> HttpResponse:
    """What moderation did, per UTC day, in counts and public reasons only."""
    ttl_hours = max(settings.POST_TTL_SECONDS, settings.COMMENT_TTL_SECONDS) / 3600
    context = {
        "identity": identity_ensure(request),
        "nav": "moderation",
        "days": log_days(),
        "kept_hours": f"{ttl_hours:g}",
        "threshold": settings.FLAG_HIDE_THRESHOLD,
    }
    return render(request, "moderation/log.html", context)
