"""Community flags: POST /api/flags."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from antispam.ratelimit import write_limit
from boards.validation import is_item_id
from moderation import services
from moderation.store import KINDS, REASONS
from nullboard.api import ApiError, api, field, request_data
from nullboard.identity import identity_peek


@api(methods=["POST"])
@write_limit("flags")
@write_limit("flags-hourly", rate="30/h")  # 30 flags per client per hour
def flags_view(request: HttpRequest) -> JsonResponse:
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
    identity = identity_peek(request)
    if identity is None:
        raise ApiError(403, "no_session", "Call POST /api/session first.")
    result = services.flag_create(kind=kind, item_id=item_id, voter=identity.sid, reason=reason)
    if not result.found:
        raise ApiError(404, "not_found", f"No such {kind}; it may have expired.")
    return JsonResponse({"status": "received"}, status=202)
