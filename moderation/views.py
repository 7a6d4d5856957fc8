"""Community flags (POST /api/flags), the rules and the public moderation log."""

from __future__ import annotations

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from pydantic import model_validator

from antispam.pow import pow_write
from antispam.ratelimit import client_address, write_limit
from boards.validation import is_item_id
from moderation import services
from moderation.log import log_days
from moderation.repository import KINDS, REASONS
from nullboard import errors
from nullboard.api import api
from nullboard.identity import identity_ensure, identity_require
from nullboard.specs import Spec, refuse, text

NOT_FOUND = {"post": errors.NO_SUCH_POST, "comment": errors.NO_SUCH_COMMENT}
OVER_QUOTA = _("Your network has flagged a lot lately; try again in %(seconds)s s.")


class FlagCreate(Spec):
    """POST /api/flags: which item (``type`` and ``id``) and why (``reason``)."""

    type: Annotated[str, text(max_length=10)] = ""
    id: Annotated[str, text(max_length=64)] = ""
    reason: Annotated[str, text(max_length=20)] = ""

    @model_validator(mode="after")
    def _known(self) -> FlagCreate:
        if self.type not in KINDS:
            raise refuse("invalid_type", _("'type' must be post or comment."))
        if self.reason not in REASONS:
            detail = _("'reason' must be one of: %(reasons)s.") % {"reasons": ", ".join(REASONS)}
            raise refuse("invalid_reason", detail)
        if not is_item_id(self.id):
            raise refuse("invalid_id", _("'id' is not an item id."))
        return self


def _over_quota(retry_after: int) -> errors.Throttled:
    detail = OVER_QUOTA % {"seconds": retry_after}
    return errors.Throttled(detail, retry_after=retry_after, code="flag_quota")


def _may_flag(request: HttpRequest, body: FlagCreate) -> None:
    identity_require(request)
    # Refused before the proof of work is spent; the script checks again atomically.
    if retry_after := services.flag_retry_after(address=client_address(request)):
        raise _over_quota(retry_after)


@api(methods=["POST"])
@write_limit("flags")
@pow_write(FlagCreate, check=_may_flag)
def flags_view(request: HttpRequest, body: FlagCreate) -> JsonResponse:
    """A flag costs a proof of work and counts once per client network (see
    moderation.services.flag_create); each network has a quota per window."""
    flagged = services.flag_create(
        kind=body.type, item_id=body.id, address=client_address(request), reason=body.reason
    )
    if not flagged.result.found:
        raise errors.NotFound(NOT_FOUND[body.type])
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
