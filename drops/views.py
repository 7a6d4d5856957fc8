"""Drop pages (work without JavaScript) and the JSON API. Thin: the rules live
in drops.services and drops.selectors."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, NotRequired, ParamSpec, TypedDict, TypeVar

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from antispam.pow import pow_write
from antispam.ratelimit import client_key, client_network_key, form_limit, write_limit
from drops import media, sealing, selectors, services
from drops.audio import AudioRejected, audio_inspect
from drops.specs import (
    DropForm,
    OpenByKey,
    OpenByVerifier,
    PlainDropCreate,
    SealedDropCreate,
)
from nullboard import errors
from nullboard.api import api, request_data, spec_parse
from nullboard.identity import identity_ensure

# Container durations round a little; the recorder stops at the limit itself.
DURATION_SLACK_SECONDS = 0.5
# Without JavaScript there is no proof of work, so the form gets a far smaller quota.
FORM_RATE = "5/10m"  # 5 text drops per client per 10 minutes from the no-JS form
FORM_WINDOW_SECONDS = 600

P = ParamSpec("P")
R = TypeVar("R")


# --- input ---------------------------------------------------------------------
def _upload_fits(upload: UploadedFile[Any] | None, *, sealed: bool) -> None:
    """Refuse a recording over VOICE_MAX_BYTES (plus the seal's few bytes) unread."""
    limit = settings.VOICE_MAX_BYTES + (sealing.SEAL_OVERHEAD if sealed else 0)
    if upload is not None and (upload.size or 0) > limit:
        raise _voice_too_large()


def _voice_too_large() -> errors.TooLarge:
    return errors.TooLarge(errors.VOICE_TOO_LARGE % {"limit": settings.VOICE_MAX_BYTES})


def _audio(upload: UploadedFile[Any]) -> tuple[bytes, str]:
    """Read and inspect a plain recording (server-sealed path); bounded in work."""
    data = upload.read()
    try:
        info = audio_inspect(data)
    except AudioRejected as exc:
        detail = _("Not an accepted recording: %(reason)s.") % {"reason": exc}
        raise errors.Invalid(detail, code="bad_audio") from None
    limit = settings.VOICE_MAX_SECONDS
    if info.seconds is not None and info.seconds > limit + DURATION_SLACK_SECONDS:
        detail = _("A voice note may last at most %(limit)s seconds.") % {"limit": limit}
        raise errors.Invalid(detail, code="too_long")
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


CREATE_REFUSALS = (
    services.MediaFull,
    services.QuotaExceeded,
    services.IdTaken,
    redis.exceptions.OutOfMemoryError,
)


def _create_refusal(exc: Exception) -> errors.Error:
    """The answer when a sound drop cannot be stored (nothing was kept)."""
    if isinstance(exc, services.MediaFull):
        return errors.Unavailable(MEDIA_FULL, retry_after=60, code="media_full")
    if isinstance(exc, services.QuotaExceeded):
        return errors.Throttled(exc.detail, retry_after=60, code="quota_exceeded")
    if isinstance(exc, services.IdTaken):
        return errors.Conflict(ID_TAKEN, code="id_taken")
    return errors.store_full()


MEDIA_FULL = _("Voice storage is full for everyone right now; try again later.")
ID_TAKEN = _("That drop id is taken; seal again with a new one.")


def off_the_shared_thread(view: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a sync view in the thread pool, not the one thread Django gives all sync
    views under ASGI: drop writes wait on Redis and disk, and need no ORM."""
    run = sync_to_async(view, thread_sensitive=False)

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run(*args, **kwargs)

    return wrapper


# --- API -----------------------------------------------------------------------
@api(methods=["POST"])
@write_limit("drops")
async def api_create(request: HttpRequest) -> JsonResponse:
    """POST /api/drops: sealed in the browser (``seal`` + ``ciphertext``, JSON for text,
    multipart for voice) or on the server (``text`` JSON or ``audio`` multipart).

    Async: a text (JSON), sealed in the browser or here, is stored on the event
    loop's Redis client (a passphrase's slow hash, and the QR file on a storage that
    is not the local disk, in a worker thread); a form or a voice upload runs in a
    worker thread, as a sync view would."""
    # Refuse an oversized upload before parsing it; nullboard.limits bounds what was read.
    if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise _voice_too_large()
    try:
        if _is_form(request):
            created = await _create_in_thread(request)
        elif "seal" in request_data(request):
            created = await _create_browser_sealed_text(request)
        else:
            created = await _create_server_sealed_text(request)
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


def _is_form(request: HttpRequest) -> bool:
    """A multipart or urlencoded body (request_data reads anything else as JSON)."""
    content_type = request.content_type or ""
    return content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))


@off_the_shared_thread
def _create_in_thread(request: HttpRequest) -> services.CreatedDrop:
    """A create posted as a form: a voice upload (or a text sent as a form)."""
    if "seal" in request_data(request):
        return _create_browser_sealed(request)
    return _create_server_sealed(request)


class _StoreArgs(TypedDict):
    """What every drop write takes, whoever seals it."""

    link_base: str
    network: str
    ttl_seconds: int
    max_views: int


def _store_args(request: HttpRequest, body: SealedDropCreate | PlainDropCreate) -> _StoreArgs:
    return {
        "link_base": _link_base(request),
        "network": client_network_key(None, request),
        "ttl_seconds": body.ttl_seconds,
        "max_views": body.max_views,
    }


def _sealed_upload_fits(request: HttpRequest, body: SealedDropCreate) -> None:
    _upload_fits(request.FILES.get("ciphertext"), sealed=True)  # before it is even read


@pow_write(SealedDropCreate, check=_sealed_upload_fits)
def _create_browser_sealed(request: HttpRequest, body: SealedDropCreate) -> services.CreatedDrop:
    store_args = _store_args(request, body)
    if (upload := request.FILES.get("ciphertext")) is not None:
        return services.drop_store(
            **store_args, kind="voice", seal=body.seal, ciphertext=upload.read(), mime=body.mime
        )
    return services.drop_store(
        **store_args, kind="text", seal=body.seal, ciphertext=body.ciphertext
    )


@pow_write(SealedDropCreate, check=_sealed_upload_fits)
async def _create_browser_sealed_text(
    request: HttpRequest, body: SealedDropCreate
) -> services.CreatedDrop:
    """A browser-sealed text (JSON, no upload): proof of work and the store's steps on
    the event loop."""
    return await services.adrop_store(
        **_store_args(request, body), kind="text", seal=body.seal, ciphertext=body.ciphertext
    )


@pow_write(PlainDropCreate)
async def _create_server_sealed_text(
    request: HttpRequest, body: PlainDropCreate
) -> services.CreatedDrop:
    """A text (JSON) sealed here: proof of work and the store's steps on the event loop."""
    return await services.adrop_text_create(
        **_store_args(request, body), text=body.text, passphrase=body.passphrase
    )


def _plain_upload_fits(request: HttpRequest, body: PlainDropCreate) -> None:
    _upload_fits(request.FILES.get("audio"), sealed=False)


@pow_write(PlainDropCreate, check=_plain_upload_fits)
def _create_server_sealed(request: HttpRequest, body: PlainDropCreate) -> services.CreatedDrop:
    store_args = _store_args(request, body)
    passphrase = body.passphrase
    if (upload := request.FILES.get("audio")) is not None:
        # Parsed only after the proof of work and rate limits: parsing costs work.
        audio, mime = _audio(upload)
        return services.drop_create(**store_args, audio=audio, mime=mime, passphrase=passphrase)
    return services.drop_create(**store_args, text=body.text, passphrase=passphrase)


@api(methods=["GET"])
def api_peek(request: HttpRequest, drop_id: str) -> JsonResponse:
    """GET /api/drops/ID: what a reader needs before opening (never spends a view)."""
    peek = selectors.drop_peek(drop_id=drop_id)
    if peek is None:
        raise errors.Gone(errors.DROP_GONE)
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


def _open_refusal(exc: Exception) -> errors.Error:
    """The answer when a key does not open (nothing was spent)."""
    if isinstance(exc, services.DropGone):
        return errors.Gone(errors.DROP_GONE)
    if isinstance(exc, services.Throttled):
        wait = _wait_text(exc.retry_after)
        return errors.Throttled(wait, retry_after=exc.retry_after, code="too_many_wrong_keys")
    if isinstance(exc, services.WrongKey) and exc.used:
        return errors.Forbidden(_("This key has been used already."), code="key_used")
    if isinstance(exc, services.WrongKey):
        detail = _("That key (or passphrase) does not open this drop.")
        return errors.Forbidden(detail, code="wrong_key")
    return errors.store_full()


def _wait_text(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return ngettext(
        "Too many wrong keys lately; wait about %(n)d minute before trying another. "
        "A right key still opens the drop.",
        "Too many wrong keys lately; wait about %(n)d minutes before trying another. "
        "A right key still opens the drop.",
        minutes,
    ) % {"n": minutes}


class OpenAnswer(TypedDict):
    """POST /api/drops/ID/open's answer (docs/openapi.yaml, DropOpened)."""

    kind: str
    views_left: int
    expires_at: int
    sealed: str
    audio_url: NotRequired[str]  # voice
    mime: NotRequired[str]  # voice
    text: NotRequired[str]  # opened on the server
    wrapped: NotRequired[str]  # by verifier: the browser opens it
    salt: NotRequired[str]
    iterations: NotRequired[int]
    ciphertext: NotRequired[str]  # by verifier, text


@api(methods=["POST"])
@write_limit("drops-open")
async def api_open(request: HttpRequest, drop_id: str) -> JsonResponse:
    """POST /api/drops/ID/open: spend one key on one view, by its ``verifier`` (sealed
    parts back, for the browser) or by the ``key`` itself (opened on the server).

    Async, on the event loop's Redis client (a passphrase's slow hash and a last
    view's file cleanup go to worker threads)."""
    data = request_data(request)
    client = client_key(None, request)
    by_verifier = "verifier" in data
    try:
        if by_verifier:
            verifier = spec_parse(OpenByVerifier, data).verifier
            opened = await services.adrop_open(drop_id=drop_id, verifier=verifier, client=client)
        else:
            given = spec_parse(OpenByKey, data)
            opened = await services.adrop_open_with_key(
                drop_id=drop_id, key=given.key, passphrase=given.passphrase, client=client
            )
    except OPEN_REFUSALS as exc:
        raise _open_refusal(exc) from None
    body: OpenAnswer = {
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
def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {"identity": identity_ensure(request), "nav": "drops", **context}
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _page(request, "drops/gone.html", {}, status=410)


def _life_label(seconds: int) -> str:
    """A drop's life in the largest whole unit, in the reader's language."""
    if seconds % 86400 == 0:
        return ngettext("%(count)d day", "%(count)d days", seconds // 86400) % {
            "count": seconds // 86400
        }
    if seconds % 3600 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", seconds // 3600) % {
            "count": seconds // 3600
        }
    if seconds % 60 == 0:
        return ngettext("%(count)d minute", "%(count)d minutes", seconds // 60) % {
            "count": seconds // 60
        }
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}


def _new_context(**extra: Any) -> dict[str, Any]:
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


def _new_refused(
    request: HttpRequest, detail: errors.Detail, status: int, wait: int
) -> HttpResponse:
    response = _page(request, "drops/new.html", _new_context(error=detail), status=status)
    response["Retry-After"] = str(wait)
    return response


@off_the_shared_thread  # a no-JS passphrase costs a PBKDF2 (it releases the GIL)
@never_cache
@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
@form_limit("drops-form", FORM_RATE)
def new_page(request: HttpRequest) -> HttpResponse:
    """Write a drop. Without JavaScript the form posts here and the server seals it."""
    if request.method != "POST":
        return _page(request, "drops/new.html", _new_context())
    if getattr(request, "limited", False):
        detail = gettext(
            "You have made several drops from this form in the last few minutes. "
            "Wait ten minutes and try again (with JavaScript on, the limit is higher)."
        )
        return _new_refused(request, detail, 429, FORM_WINDOW_SECONDS)
    try:
        form = spec_parse(DropForm, request.POST.dict())
    except errors.Invalid as exc:
        return _page(request, "drops/new.html", _new_context(error=exc.detail), status=400)
    try:
        created = services.drop_create(
            link_base=_link_base(request),
            network=client_network_key(None, request),
            ttl_seconds=form.ttl_seconds,
            max_views=form.max_views,
            text=form.text,
            passphrase=form.passphrase,
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
    context: dict[str, Any] = {
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
        return HttpResponse(str(errors.DROP_GONE), status=410, content_type="text/plain")
    except services.BadAudio:
        detail = _("This voice note is not a recording we can play.")
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
