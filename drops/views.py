"""Drop pages (work without JavaScript) and the JSON API. Thin: the rules live
in drops.services and drops.selectors."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from antispam.pow import pow_verify
from antispam.ratelimit import client_key, client_network_key, write_limit
from drops import media, sealing, selectors, services
from drops.audio import AudioRejected, audio_inspect
from nullboard.api import ApiError, api, field, request_data
from nullboard.identity import identity_ensure
from nullboard.middleware import STORE_FULL_DETAIL

# Container durations round a little; the recorder stops at the limit itself.
DURATION_SLACK_SECONDS = 0.5
# Without JavaScript there is no proof of work, so the form gets a far smaller quota.
FORM_RATE = "5/10m"  # 5 text drops per client per 10 minutes from the no-JS form
FORM_WINDOW_SECONDS = 600

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


def _passphrase(data: dict) -> str:
    return field(data, "passphrase", max_length=sealing.PASSPHRASE_MAX_CHARS, required=False)


def _upload(request: HttpRequest, name: str, *, sealed: bool) -> UploadedFile:
    """An uploaded recording within VOICE_MAX_BYTES (plus the seal's few bytes)."""
    upload = request.FILES[name]
    if upload.size > settings.VOICE_MAX_BYTES + (sealing.SEAL_OVERHEAD if sealed else 0):
        limit = settings.VOICE_MAX_BYTES
        raise ApiError(413, "too_large", f"A voice note may be at most {limit} bytes.")
    return upload


def _audio(upload: UploadedFile) -> tuple[bytes, str]:
    """Read and inspect a plain recording (server-sealed path); bounded in work."""
    data = upload.read()
    try:
        info = audio_inspect(data)
    except AudioRejected as exc:
        raise ApiError(400, "bad_audio", f"Not an accepted recording: {exc}.") from None
    limit = settings.VOICE_MAX_SECONDS
    if info.seconds is not None and info.seconds > limit + DURATION_SLACK_SECONDS:
        raise ApiError(400, "too_long", f"A voice note may last at most {limit} seconds.")
    return data, info.mime


def _bad_seal(detail: str) -> ApiError:
    return ApiError(400, "invalid_seal", f"The 'seal' object is malformed: {detail}")


def _seal_input(raw: object) -> services.SealInput:
    """The browser's ``seal`` object, checked field by field (400 on anything off)."""
    if isinstance(raw, str) and len(raw) <= 4096:
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise _bad_seal("not JSON.") from None
    if not isinstance(raw, dict):
        raise _bad_seal("it must be an object.")
    if raw.get("v") != sealing.VERSION or type(raw.get("v")) is not int:
        raise _bad_seal(f"'v' must be {sealing.VERSION}.")
    drop_id = raw.get("id")
    if not isinstance(drop_id, str) or not services.DROP_ID.fullmatch(drop_id):
        raise _bad_seal("'id' must be 16 URL-safe base64 characters.")
    iterations = raw.get("iterations")
    if iterations not in (0, sealing.PASSPHRASE_ITERATIONS) or type(iterations) is not int:
        raise _bad_seal(f"'iterations' must be 0 or {sealing.PASSPHRASE_ITERATIONS}.")
    keys = raw.get("keys")
    if not isinstance(keys, list) or len(keys) != services.KEYS_PER_DROP:
        raise _bad_seal(f"'keys' must list {services.KEYS_PER_DROP} keys.")
    try:
        salt = sealing.b64decode(raw.get("salt"), size=sealing.SALT_BYTES)
        if not all(isinstance(k, dict) for k in keys):
            raise ValueError("each key must be an object")
        verifiers = [sealing.b64decode(k.get("verifier"), size=sealing.KEY_BYTES) for k in keys]
        wrapped = [sealing.b64decode(k.get("wrapped"), size=sealing.WRAPPED_BYTES) for k in keys]
    except ValueError as exc:
        raise _bad_seal(f"{exc}.") from None
    return services.SealInput(drop_id, salt, iterations, verifiers, wrapped)


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


CREATE_REFUSALS = (
    services.MediaFull,
    services.QuotaExceeded,
    services.IdTaken,
    redis.exceptions.OutOfMemoryError,
)


def _create_refusal(exc: Exception) -> ApiError:
    """The answer when a sound drop cannot be stored (nothing was kept)."""
    if isinstance(exc, services.MediaFull):
        return ApiError(
            503,
            "media_full",
            "Voice storage is full for everyone right now; try again later.",
            {"Retry-After": "60"},
        )
    if isinstance(exc, services.QuotaExceeded):
        return ApiError(429, "quota_exceeded", exc.detail, {"Retry-After": "60"})
    if isinstance(exc, services.IdTaken):
        return ApiError(409, "id_taken", "That drop id is taken; seal again with a new one.")
    return ApiError(503, "store_full", STORE_FULL_DETAIL, {"Retry-After": "30"})


def off_the_shared_thread(view: Callable) -> Callable:
    """Run a sync view in the thread pool, not the one thread Django gives all sync
    views under ASGI: drop writes wait on Redis and disk, and need no ORM."""
    run = sync_to_async(view, thread_sensitive=False)

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return await run(request, *args, **kwargs)

    return wrapper


# --- API -----------------------------------------------------------------------
@api(methods=["POST"])
@off_the_shared_thread
@write_limit("drops")
def api_create(request: HttpRequest) -> JsonResponse:
    """POST /api/drops: sealed in the browser (``seal`` + ``ciphertext``, JSON for text,
    multipart for voice) or on the server (``text`` JSON or ``audio`` multipart)."""
    # Refuse an oversized upload before parsing it; nullboard.limits bounds what was read.
    if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        limit = settings.VOICE_MAX_BYTES
        raise ApiError(413, "too_large", f"A voice note may be at most {limit} bytes.")
    data = request_data(request)
    ttl, views = _life_and_views(data)
    store_args = {
        "link_base": _link_base(request),
        "network": client_network_key(None, request),
        "ttl_seconds": ttl,
        "max_views": views,
    }
    try:
        if "seal" in data:
            created = _create_browser_sealed(request, data, store_args)
        else:
            created = _create_server_sealed(request, data, store_args)
    except CREATE_REFUSALS as exc:
        raise _create_refusal(exc) from None
    body = {
        "id": created.id,
        **_links(request, created),
        "kind": created.kind,
        "max_views": created.max_views,
        "expires_at": created.expires_at,
        "sealed": created.sealed_by,
    }
    if created.keys:
        body["keys"] = created.keys
    return JsonResponse(body, status=201)


def _create_browser_sealed(
    request: HttpRequest, data: dict, store_args: dict
) -> services.CreatedDrop:
    if "audio" in request.FILES or data.get("text"):
        raise ApiError(400, "invalid_field", "Send a sealed drop or a plain one, not both.")
    seal = _seal_input(data["seal"])
    if "ciphertext" in request.FILES:
        mime = data.get("mime")
        if mime not in services.VOICE_TYPES:
            types = ", ".join(services.VOICE_TYPES)
            raise ApiError(400, "invalid_field", f"'mime' must be one of {types}.")
        upload = _upload(request, "ciphertext", sealed=True)
        pow_verify(request)  # before the upload is even read
        return services.drop_store(
            **store_args, kind="voice", seal=seal, ciphertext=upload.read(), mime=mime
        )
    try:
        ciphertext = sealing.b64decode(data.get("ciphertext"), max_size=services.TEXT_MAX_SEALED)
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"'ciphertext' must be base64: {exc}.") from None
    if len(ciphertext) <= sealing.SEAL_OVERHEAD:
        raise ApiError(400, "invalid_field", "'ciphertext' is too short to hold a message.")
    pow_verify(request)
    return services.drop_store(**store_args, kind="text", seal=seal, ciphertext=ciphertext)


def _create_server_sealed(
    request: HttpRequest, data: dict, store_args: dict
) -> services.CreatedDrop:
    passphrase = _passphrase(data)
    if "audio" in request.FILES:
        if data.get("text"):
            raise ApiError(400, "invalid_field", "Send text or audio, not both.")
        upload = _upload(request, "audio", sealed=False)
        pow_verify(request)  # proof of work and rate limits before any parsing of audio
        audio, mime = _audio(upload)
        return services.drop_create(**store_args, audio=audio, mime=mime, passphrase=passphrase)
    text = _text(data)
    pow_verify(request)
    return services.drop_create(**store_args, text=text, passphrase=passphrase)


@api(methods=["GET"])
def api_peek(request: HttpRequest, drop_id: str) -> JsonResponse:
    """GET /api/drops/ID: what a reader needs before opening (never spends a view)."""
    peek = selectors.drop_peek(drop_id=drop_id)
    if peek is None:
        raise ApiError(410, "gone", GONE_DETAIL)
    response = JsonResponse(
        {
            "kind": peek.kind,
            "expires_at": peek.expires_at,
            "views_left": peek.views_left,
            "salt": peek.salt,
            "iterations": peek.iterations,
            "sealed": peek.sealed_by,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


OPEN_REFUSALS = (
    services.DropGone,
    services.Throttled,
    services.WrongKey,
    redis.exceptions.OutOfMemoryError,
)


def _open_refusal(exc: Exception) -> ApiError:
    """The answer when a key does not open (nothing was spent)."""
    if isinstance(exc, services.DropGone):
        return ApiError(410, "gone", GONE_DETAIL)
    if isinstance(exc, services.Throttled):
        return ApiError(
            429,
            "too_many_wrong_keys",
            _wait_text(exc.retry_after),
            {"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, services.WrongKey) and exc.used:
        return ApiError(403, "key_used", "This key has been used already.")
    if isinstance(exc, services.WrongKey):
        return ApiError(403, "wrong_key", "That key (or passphrase) does not open this drop.")
    return ApiError(503, "store_full", STORE_FULL_DETAIL, {"Retry-After": "30"})


def _wait_text(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"Too many wrong keys lately; wait about {minutes} minute{'s' if minutes > 1 else ''} "
        "before trying another. A right key still opens the drop."
    )


@api(methods=["POST"])
@off_the_shared_thread
@write_limit("drops-open")
def api_open(request: HttpRequest, drop_id: str) -> JsonResponse:
    """POST /api/drops/ID/open: spend one key on one view, by its ``verifier`` (sealed
    parts back, for the browser) or by the ``key`` itself (opened on the server)."""
    data = request_data(request)
    client = client_key(None, request)
    by_verifier = "verifier" in data
    try:
        if by_verifier:
            try:
                verifier = sealing.b64decode(data["verifier"], size=sealing.KEY_BYTES)
            except ValueError as exc:
                raise ApiError(400, "invalid_field", f"'verifier': {exc}.") from None
            opened = services.drop_open(drop_id=drop_id, verifier=verifier, client=client)
        else:
            key = field(data, "key", max_length=100)
            opened = services.drop_open_with_key(
                drop_id=drop_id, key=key, passphrase=_passphrase(data), client=client
            )
    except OPEN_REFUSALS as exc:
        raise _open_refusal(exc) from None
    body: dict = {
        "kind": opened.kind,
        "views_left": opened.views_left,
        "expires_at": opened.expires_at,
        "sealed": opened.sealed_by,
    }
    if opened.kind == "voice":
        body["audio_url"] = reverse("drop-audio", args=[drop_id, opened.ticket])
        body["mime"] = opened.mime
    if opened.text is not None:
        body["text"] = opened.text
    if by_verifier:
        body["wrapped"] = sealing.b64encode(opened.wrapped)
        body["salt"] = sealing.b64encode(opened.salt)
        body["iterations"] = opened.iterations
        if opened.kind == "text":
            body["ciphertext"] = sealing.b64encode(opened.ciphertext)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


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


def _new_refused(request: HttpRequest, detail: str, status: int, wait: int) -> HttpResponse:
    response = _page(request, "drops/new.html", _new_context(error=detail), status=status)
    response["Retry-After"] = str(wait)
    return response


@off_the_shared_thread  # a no-JS passphrase costs a PBKDF2 (it releases the GIL)
@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="drops-form", key=client_key, rate=FORM_RATE, method="POST", block=False)
def new_page(request: HttpRequest) -> HttpResponse:
    """Write a drop. Without JavaScript the form posts here and the server seals it."""
    if request.method != "POST":
        return _page(request, "drops/new.html", _new_context())
    if getattr(request, "limited", False):
        detail = (
            "You have made several drops from this form in the last few minutes. "
            "Wait ten minutes and try again (with JavaScript on, the limit is higher)."
        )
        return _new_refused(request, detail, 429, FORM_WINDOW_SECONDS)
    data = request.POST
    try:
        ttl, views = _life_and_views(data)
        text = _text(data)
        passphrase = _passphrase(data)
    except ApiError as exc:
        return _page(request, "drops/new.html", _new_context(error=exc.detail), status=400)
    try:
        created = services.drop_create(
            link_base=_link_base(request),
            network=client_network_key(None, request),
            ttl_seconds=ttl,
            max_views=views,
            text=text,
            passphrase=passphrase,
        )
    except CREATE_REFUSALS as exc:
        refusal = _create_refusal(exc)
        wait = int(refusal.headers.get("Retry-After", 60))
        return _new_refused(request, refusal.detail, refusal.status, wait)
    return _page(request, "drops/share.html", {"drop": created, **_links(request, created)}, 201)


@off_the_shared_thread  # a no-JS passphrase costs a PBKDF2 (it releases the GIL)
@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@write_limit("drops-open")
def open_page(request: HttpRequest, drop_id: str) -> HttpResponse:
    """The key form; posting it opens the drop on the server (no JavaScript needed)."""
    peek = selectors.drop_peek(drop_id=drop_id)
    context: dict = {
        "drop_id": drop_id,
        "peek": peek,
        "voice_max_seconds": settings.VOICE_MAX_SECONDS,
    }
    if request.method != "POST":
        if peek is None:
            return _gone(request)
        return _page(request, "drops/open.html", context)
    key = request.POST.get("key", "")[:100]
    passphrase = request.POST.get("passphrase", "")[: sealing.PASSPHRASE_MAX_CHARS]
    try:
        opened = services.drop_open_with_key(
            drop_id=drop_id, key=key, passphrase=passphrase, client=client_key(None, request)
        )
    except OPEN_REFUSALS as exc:
        refusal = _open_refusal(exc)
        if refusal.status == 410:
            return _gone(request)
        context["error"] = refusal.detail
        response = _page(request, "drops/open.html", context, status=refusal.status)
        if "Retry-After" in refusal.headers:
            response["Retry-After"] = refusal.headers["Retry-After"]
        return response
    if opened.ticket:
        context["audio_url"] = reverse("drop-audio", args=[drop_id, opened.ticket])
    # The reader holds what they opened: it stays at least this long, even past its life.
    context["hold_until"] = max(opened.expires_at, int(time.time()) + services.READER_HOLD_SECONDS)
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
    """The voice note, once, for the ticket an open handed out: the ciphertext for a
    browser to decrypt, or the recording the server decrypted and checked (no JS)."""
    try:
        audio, mime = services.audio_take(drop_id=drop_id, ticket=ticket)
    except services.DropGone:
        return HttpResponse(GONE_DETAIL, status=410, content_type="text/plain")
    except services.BadAudio:
        detail = "This voice note is not a recording we can play."
        return HttpResponse(detail, status=422, content_type="text/plain")
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
