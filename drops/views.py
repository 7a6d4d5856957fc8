"""Drop pages (work without JavaScript) and the JSON API. Thin: the rules live
in drops.services and drops.selectors."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from antispam.pow import pow_verify
from antispam.ratelimit import client_key, write_limit
from drops import media, selectors, services
from drops.audio import AudioRejected, audio_inspect
from nullboard.api import ApiError, api, field, request_data
from nullboard.identity import identity_ensure

# Container durations round a little; the recorder stops at the limit itself.
DURATION_SLACK_SECONDS = 0.5
# Without JavaScript there is no proof of work, so the form gets a far smaller quota.
FORM_RATE = "5/10m"  # 5 text drops per client per 10 minutes from the no-JS form

GONE_DETAIL = "This drop is gone: it expired, was burned, or never existed."


# --- input ---------------------------------------------------------------------
def _int_field(data: dict, name: str, default: int, low: int, high: int) -> int:
    """A whole number within bounds; JSON's 188.0 is the whole number 188."""
    value = data.get(name)
    if value in (None, ""):
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool | float):
        raise ApiError(400, "invalid_field", f"'{name}' must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, "invalid_field", f"'{name}' must be a whole number.") from None
    if not low <= number <= high:
        raise ApiError(400, "invalid_field", f"'{name}' must be between {low} and {high}.")
    return number


def _life_and_views(data: dict) -> tuple[int, int]:
    ttl = _int_field(
        data, "ttl_seconds", settings.DROP_TTL_SECONDS, 5, settings.DROP_MAX_TTL_SECONDS
    )
    views = _int_field(data, "max_views", settings.DROP_MAX_VIEWS, 1, settings.DROP_MAX_VIEWS)
    return ttl, views


def _text(data: dict) -> str:
    text = field(data, "text", max_length=services.TEXT_MAX_CHARS)
    if not text.strip():
        raise ApiError(400, "missing_field", "'text' is required.")
    return text


def _audio(request: HttpRequest) -> tuple[bytes, str]:
    upload = request.FILES.get("audio")
    if upload.size > settings.VOICE_MAX_BYTES:
        limit = settings.VOICE_MAX_BYTES
        raise ApiError(413, "too_large", f"A voice note may be at most {limit} bytes.")
    data = upload.read()
    try:
        info = audio_inspect(data)
    except AudioRejected as exc:
        raise ApiError(400, "bad_audio", f"Not an accepted recording: {exc}.") from None
    limit = settings.VOICE_MAX_SECONDS
    if info.seconds is not None and info.seconds > limit + DURATION_SLACK_SECONDS:
        raise ApiError(400, "too_long", f"A voice note may last at most {limit} seconds.")
    return data, info.mime


def _links(request: HttpRequest, created: services.CreatedDrop) -> dict[str, str]:
    absolute = request.build_absolute_uri
    return {
        "url": absolute(reverse("drop-open", args=[created.id])),
        "qr_url": absolute(reverse("drop-qr", args=[created.id])),
        "receipt_url": absolute(reverse("drop-receipt", args=[created.id, created.receipt_token])),
    }


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads such a body as empty


def _link_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("drop-open", args=["x"])).removesuffix("x")


# --- API -----------------------------------------------------------------------
@api(methods=["POST"])
@write_limit("drops")
def api_create(request: HttpRequest) -> JsonResponse:
    """POST /api/drops: a text (JSON) or voice (multipart ``audio``) drop."""
    # Refuse an oversized upload before Django spools it to disk.
    if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        limit = settings.VOICE_MAX_BYTES
        raise ApiError(413, "too_large", f"A voice note may be at most {limit} bytes.")
    data = request_data(request)
    ttl, views = _life_and_views(data)
    if "audio" in request.FILES:
        if data.get("text"):
            raise ApiError(400, "invalid_field", "Send text or audio, not both.")
        audio, mime = _audio(request)
        text = None
    else:
        text, audio, mime = _text(data), None, ""
    pow_verify(request)
    try:
        created = services.drop_create(
            link_base=_link_base(request),
            ttl_seconds=ttl,
            max_views=views,
            text=text,
            audio=audio,
            mime=mime,
        )
    except services.MediaFull:
        raise ApiError(
            503, "media_full", "Voice storage is full; try again later.", {"Retry-After": "60"}
        ) from None
    body = {
        "id": created.id,
        **_links(request, created),
        "keys": created.keys,
        "kind": created.kind,
        "max_views": created.max_views,
        "expires_at": created.expires_at,
    }
    return JsonResponse(body, status=201)


@api(methods=["POST"])
@write_limit("drops-open")
def api_open(request: HttpRequest, drop_id: str) -> JsonResponse:
    """POST /api/drops/ID/open: spend one key on one view."""
    key = field(request_data(request), "key", max_length=100)
    try:
        opened = services.drop_open(drop_id=drop_id, key=key, client=client_key(None, request))
    except services.DropGone:
        raise ApiError(410, "gone", GONE_DETAIL) from None
    except services.Throttled:
        window = str(services.WRONG_KEY_WINDOW)
        raise ApiError(
            429, "too_many_wrong_keys", "Too many wrong keys; wait.", {"Retry-After": window}
        ) from None
    except services.WrongKey as exc:
        if exc.used:
            raise ApiError(403, "key_used", "This key has been used already.") from None
        raise ApiError(403, "wrong_key", "That key does not open this drop.") from None
    body: dict = {"kind": opened.kind, "views_left": opened.views_left}
    if opened.kind == "text":
        body["text"] = opened.text
    else:
        body["audio_url"] = reverse("drop-audio", args=[drop_id, opened.ticket])
    body["expires_at"] = opened.expires_at
    return JsonResponse(body)


# --- pages ---------------------------------------------------------------------
def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context = {"identity": identity_ensure(request), "nav": "drops", **context}
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _page(request, "drops/gone.html", {}, status=410)


def _life_label(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _new_context(**extra) -> dict:
    return {
        "life_choices": [(s, _life_label(s)) for s in services.drop_life_choices()],
        "default_life": settings.DROP_TTL_SECONDS,
        "max_views": settings.DROP_MAX_VIEWS,
        "view_choices": range(settings.DROP_MAX_VIEWS, 0, -1),
        "text_max": services.TEXT_MAX_CHARS,
        "voice_max_seconds": settings.VOICE_MAX_SECONDS,
        "voice_max_bytes": settings.VOICE_MAX_BYTES,
        **extra,
    }


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@write_limit("drops-form", rate=FORM_RATE)
def new_page(request: HttpRequest) -> HttpResponse:
    """Write or record a drop. The form posts here without JavaScript (text only)."""
    if request.method != "POST":
        return _page(request, "drops/new.html", _new_context())
    data = request.POST
    try:
        ttl, views = _life_and_views(data)
        text = _text(data)
    except ApiError as exc:
        return _page(request, "drops/new.html", _new_context(error=exc.detail), status=400)
    created = services.drop_create(
        link_base=_link_base(request), ttl_seconds=ttl, max_views=views, text=text
    )
    return _page(request, "drops/share.html", {"drop": created, **_links(request, created)}, 201)


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@write_limit("drops-open")
def open_page(request: HttpRequest, drop_id: str) -> HttpResponse:
    """The key form; posting it opens the drop server-side (no JavaScript needed)."""
    peek = selectors.drop_peek(drop_id=drop_id)
    if request.method != "POST":
        if peek is None:
            return _gone(request)
        return _page(request, "drops/open.html", {"drop_id": drop_id, "peek": peek})
    key = request.POST.get("key", "")[:100]
    context: dict = {"drop_id": drop_id, "peek": peek}
    try:
        opened = services.drop_open(drop_id=drop_id, key=key, client=client_key(None, request))
    except services.DropGone:
        return _gone(request)
    except services.Throttled:
        context["error"] = "Too many wrong keys. Wait a few minutes and try again."
        return _page(request, "drops/open.html", context, status=429)
    except services.WrongKey as exc:
        context["error"] = (
            "This key has been used already." if exc.used else "That key does not open this drop."
        )
        return _page(request, "drops/open.html", context, status=403)
    if opened.ticket:
        context["audio_url"] = reverse("drop-audio", args=[drop_id, opened.ticket])
    return _page(request, "drops/opened.html", {**context, "opened": opened})


@require_safe
def qr_image(request: HttpRequest, drop_id: str) -> HttpResponse:
    """The drop's QR image (its link only), while the drop lives."""
    svg = media.qr_read(drop_id=drop_id) if selectors.drop_peek(drop_id=drop_id) else None
    if svg is None:
        return HttpResponse(status=404)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@require_GET  # not HEAD: a preview's HEAD must not spend the ticket
def audio_stream(request: HttpRequest, drop_id: str, ticket: str) -> HttpResponse:
    """The decrypted voice note, once, for the ticket an open handed out."""
    try:
        audio, mime = services.audio_take(drop_id=drop_id, ticket=ticket)
    except services.DropGone:
        return HttpResponse(GONE_DETAIL, status=410, content_type="text/plain")
    response = HttpResponse(audio, content_type=mime)
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = "inline"
    return response


@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@write_limit("drops-burn")
def receipt_page(request: HttpRequest, drop_id: str, token: str) -> HttpResponse:
    """The creator's receipt: which keys were used and when; POST burns the drop now."""
    receipt = selectors.receipt_get(drop_id=drop_id, token=token)
    if receipt is None:
        return _gone(request)
    if request.method == "POST":
        try:
            services.drop_burn(drop_id=drop_id, receipt_token=token)
        except services.DropGone:
            return _gone(request)
        return redirect("drop-receipt", drop_id, token)
    return _page(request, "drops/receipt.html", {"receipt": receipt, "drop_id": drop_id})
