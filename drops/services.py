"""Drop writes: create (sealed in the browser or on the server), open with a
verifier or a key, stream audio once, burn, and the rules that guard them (life,
views, wrong-key throttling, the media cap and each network's share of it)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, NoReturn, NotRequired, ParamSpec, TypedDict, TypeVar, Unpack

from asgiref.sync import sync_to_async
from django.conf import settings

from drops import media, records, repository, sealing
from drops.audio import AudioRejected, audio_inspect
from nullboard import metrics

P = ParamSpec("P")
R = TypeVar("R")

KEYS_PER_DROP = 3
TEXT_MAX_CHARS = 10_000
# A text's ciphertext: up to 4 UTF-8 bytes a character, plus version, iv and tag.
TEXT_MAX_SEALED = TEXT_MAX_CHARS * 4 + 1 + sealing.IV_BYTES + sealing.TAG_BYTES
DROP_ID = media.DROP_ID
TICKET = re.compile(r"[A-Za-z0-9_-]{32}")
RECEIPT = re.compile(r"[A-Za-z0-9_-]{22}")
VOICE_TYPES = ("audio/webm", "audio/ogg", "audio/mp4")
AUDIO_TICKET_SECONDS = 60  # an audio_url works once, within a minute
RESERVE_SECONDS = 120  # a new id is held this long while its files are written
READER_HOLD_SECONDS = 30  # an opened drop stays on the reader's screen at least this long

# Keys carry 140 bits, so throttling is about noise, not odds; a right key always opens.
WRONG_KEY_LIMITS = repository.Limits(
    pair=5,  # 5 wrong keys per client per drop per 10 minutes
    drop=30,  # 30 wrong keys per drop per 10 minutes, from anyone
    client=20,  # 20 wrong keys per client per 10 minutes, across drops
    window=600,
)


class DropGone(Exception):
    """Expired, burned or never existed: callers must not tell these apart."""


class WrongKey(Exception):
    """The key (or passphrase) does not open this drop, or the key was used."""

    def __init__(self, used: bool = False) -> None:
        super().__init__("used key" if used else "wrong key")
        self.used = used


class Throttled(Exception):
    """Too many wrong keys lately; ``retry_after`` says how long to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"wait {retry_after} s")
        self.retry_after = retry_after


class MediaFull(Exception):
    """The media folder is at its cap; voice drops wait for the sweeper."""


class QuotaExceeded(Exception):
    """This client network holds its share of live drops or media already."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IdTaken(Exception):
    """A client-made drop id that is in use (or still being cleaned up)."""


class BadAudio(Exception):
    """A decrypted recording is not a container we play."""


@dataclass(frozen=True)
class SealInput:
    """A drop sealed elsewhere (the browser): what the server stores, nothing more."""

    drop_id: str
    salt: bytes
    iterations: int
    verifiers: list[bytes]
    wrapped: list[bytes]


@dataclass(frozen=True)
class CreatedDrop:
    """A new drop with its receipt token (and its keys, when the server sealed it)."""

    id: str
    kind: str
    keys: list[str]  # grouped for display; empty when the browser holds them
    receipt_token: str
    max_views: int
    expires_at: int
    sealed_by: str


@dataclass(frozen=True)
class OpenedDrop:
    """One view's worth: the sealed parts for the browser, or the text if the server opened it."""

    kind: str
    views_left: int
    expires_at: int
    sealed_by: str
    salt: bytes
    iterations: int
    wrapped: bytes
    ciphertext: bytes = b""
    mime: str = ""
    text: str | None = None
    ticket: str | None = None


def drop_life_choices() -> list[int]:
    """The lives the creator may pick: the default, then longer steps up to the cap."""
    steps = [settings.DROP_TTL_SECONDS, 300, 3600, 86400, 7 * 86400]
    low, high = settings.DROP_TTL_SECONDS, settings.DROP_MAX_TTL_SECONDS
    return sorted({s for s in steps if low <= s <= high})


def network_quota(network: str) -> repository.Quota:
    """The caps one client network's new drop is checked against."""
    return repository.Quota(
        network=network,
        drops=settings.DROP_NETWORK_MAX_DROPS,
        media_bytes=settings.DROP_NETWORK_MEDIA_BYTES,
        media_cap=settings.MEDIA_MAX_BYTES,
    )


# --- create -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Store:
    """One create's parts, made before any step: the QR image, the claim's
    arguments, the drop's and its receipt's fields (shared by the sync and the
    event-loop path)."""

    drop_id: str
    kind: str
    ciphertext: bytes
    qr: bytes
    claim: repository.ClaimRequest
    fields: dict[str, bytes | str | int]
    receipt: records.ReceiptHash
    receipt_token: str
    created: CreatedDrop


class StoreRequest(TypedDict):
    """What storing a sealed drop takes (drop_store, adrop_store)."""

    link_base: str
    network: str
    ttl_seconds: int
    max_views: int
    kind: str
    seal: SealInput
    ciphertext: bytes
    mime: NotRequired[str]
    sealed_by: NotRequired[str]


def _store_parts(
    *,
    link_base: str,
    network: str,
    ttl_seconds: int,
    max_views: int,
    kind: str,
    seal: SealInput,
    ciphertext: bytes,
    mime: str = "",
    sealed_by: str = "browser",
) -> _Store:
    drop_id = seal.drop_id
    now = int(time.time())
    expires_at = now + ttl_seconds
    qr = media.qr_svg(link_base + drop_id)
    voice_bytes = len(ciphertext) if kind == "voice" else 0
    claim: repository.ClaimRequest = {
        "drop_id": drop_id,
        "now": now,
        "reserve_seconds": RESERVE_SECONDS,
        "expires_at": expires_at,
        "file_bytes": voice_bytes + len(qr),
        "voice_bytes": voice_bytes,
        "quota": network_quota(network),
    }
    receipt_token = secrets.token_urlsafe(16)
    access = [
        (sealing.verifier_hash(drop_id, verifier), wrapped)
        for verifier, wrapped in zip(seal.verifiers, seal.wrapped, strict=True)
    ]
    fields = records.drop_row(
        kind=kind,
        expires_at=expires_at,
        max_views=max_views,
        salt=seal.salt,
        iterations=seal.iterations,
        sealed_by=sealed_by,
        network=network,
        access=access,
        ciphertext=ciphertext,
        mime=mime,
    )
    receipt = records.receipt_row(
        token_hash=sealing.lookup_hash("receipt", drop_id, receipt_token),
        kind=kind,
        max_views=max_views,
        expires_at=expires_at,
    )
    created = CreatedDrop(
        id=drop_id,
        kind=kind,
        keys=[],
        receipt_token=receipt_token,
        max_views=max_views,
        expires_at=expires_at,
        sealed_by=sealed_by,
    )
    return _Store(
        drop_id=drop_id,
        kind=kind,
        ciphertext=ciphertext,
        qr=qr,
        claim=claim,
        fields=fields,
        receipt=receipt,
        receipt_token=receipt_token,
        created=created,
    )


def _files_write(parts: _Store) -> list[str]:
    """Write a claimed drop's files (voice note, QR image); on a failure the ones
    written are removed again and the error raised (the caller gives the claim back)."""
    written: list[str] = []
    try:
        if parts.kind == "voice":
            written.append(media.voice_name(parts.drop_id))
            media.voice_write(drop_id=parts.drop_id, sealed=parts.ciphertext)
        written.append(media.qr_name(parts.drop_id))
        media.qr_store(drop_id=parts.drop_id, svg=parts.qr)
    except BaseException:
        media.files_discard(written)
        raise
    return written


def _stored(parts: _Store) -> CreatedDrop:
    """A saved drop counted in the metrics."""
    metrics.DROPS_CREATED.labels(parts.kind).inc()
    metrics.MEDIA_BYTES.inc(len(parts.ciphertext) if parts.kind == "voice" else 0)
    return parts.created


def drop_store(**request: Unpack[StoreRequest]) -> CreatedDrop:
    """Store a sealed drop: claim its id, quota and media index entry (one round
    trip), write its files, then save it (one script): the drop is visible only once
    everything it needs is in place (drops.repository.drop_claim).

    Files written for a drop that is not saved are removed again, and its claim given
    back, so a failure (the store full or gone, a quota) leaves no orphan file and no
    drifted media count.
    """
    parts = _store_parts(**request)
    claim = repository.drop_claim(**parts.claim)
    if claim.code != repository.STORED:
        _refuse_save(claim.code)
    try:
        written = _files_write(parts)
    except BaseException:
        repository.claim_release(claim)
        raise
    try:
        saved = repository.drop_save(
            claim=claim, fields=parts.fields, receipt=parts.receipt, ttl=request["ttl_seconds"]
        )
    except BaseException:
        # Stored or not? The reservation says: a stored drop has none left, and keeps
        # its files; otherwise they go (when Redis cannot say either, as before).
        if repository.claim_release(claim) is not False:
            media.files_discard(written)
        raise
    if saved != repository.STORED:
        media.files_discard(written)
        _refuse_save(saved)
    return _stored(parts)


async def adrop_store(**request: Unpack[StoreRequest]) -> CreatedDrop:
    """:func:`drop_store` on the event loop's client: the same steps in the same
    order, the same give-back. The files are written on the loop to a local disk,
    in a worker thread to any other storage (media.storage_is_local)."""
    parts = _store_parts(**request)
    claim = await repository.adrop_claim(**parts.claim)
    if claim.code != repository.STORED:
        _refuse_save(claim.code)
    on_disk = _aready if media.storage_is_local() else _in_thread
    try:
        written = await on_disk(_files_write)(parts)
    except BaseException:
        await repository.aclaim_release(claim)
        raise
    try:
        saved = await repository.adrop_save(
            claim=claim, fields=parts.fields, receipt=parts.receipt, ttl=request["ttl_seconds"]
        )
    except BaseException:
        if await repository.aclaim_release(claim) is not False:
            await on_disk(media.files_discard)(written)
        raise
    if saved != repository.STORED:
        await on_disk(media.files_discard)(written)
        _refuse_save(saved)
    return _stored(parts)


def _in_thread(work: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``work`` in the thread pool (not the one thread Django gives sync code)."""
    return sync_to_async(work, thread_sensitive=False)


def _refuse_save(code: int) -> NoReturn:
    if code == repository.TOO_MANY:
        limit = settings.DROP_NETWORK_MAX_DROPS
        raise QuotaExceeded(
            f"Your network already has {limit} live drops; wait for some to expire or burn them."
        )
    if code == repository.NETWORK_BYTES:
        mib = settings.DROP_NETWORK_MEDIA_BYTES / 1048576
        raise QuotaExceeded(
            f"Your network's share of voice storage ({mib:.0f} MiB) is in use; "
            "wait for your voice drops to expire or burn them."
        )
    if code == repository.MEDIA_FULL:
        raise MediaFull
    raise IdTaken  # taken, or the reservation ran out meanwhile


def drop_create(
    *,
    link_base: str,
    network: str,
    ttl_seconds: int,
    max_views: int,
    text: str | None = None,
    audio: bytes | None = None,
    mime: str = "",
    passphrase: str = "",
) -> CreatedDrop:
    """Seal a drop on the server (no JavaScript, API programs), in the browser's format."""
    kind = "text" if audio is None else "voice"
    plaintext = (text or "").encode() if audio is None else audio
    seal, keys, ciphertext = _server_seal(kind=kind, plaintext=plaintext, passphrase=passphrase)
    created = drop_store(
        link_base=link_base,
        network=network,
        ttl_seconds=ttl_seconds,
        max_views=max_views,
        kind=kind,
        seal=seal,
        ciphertext=ciphertext,
        mime=mime,
        sealed_by="server",
    )
    return replace(created, keys=keys)


async def adrop_text_create(
    *,
    link_base: str,
    network: str,
    ttl_seconds: int,
    max_views: int,
    text: str,
    passphrase: str = "",
) -> CreatedDrop:
    """:func:`drop_create` of a text on the event loop (:func:`adrop_store`); a
    passphrase's slow hash (a KDF, which releases the GIL) seals in a worker thread."""
    seal_it = _in_thread(_server_seal) if passphrase else _aready(_server_seal)
    seal, keys, ciphertext = await seal_it(
        kind="text", plaintext=text.encode(), passphrase=passphrase
    )
    created = await adrop_store(
        link_base=link_base,
        network=network,
        ttl_seconds=ttl_seconds,
        max_views=max_views,
        kind="text",
        seal=seal,
        ciphertext=ciphertext,
        sealed_by="server",
    )
    return replace(created, keys=keys)


def _server_seal(
    *, kind: str, plaintext: bytes, passphrase: str
) -> tuple[SealInput, list[str], bytes]:
    """A new id's seal as the browser would send it, the keys for display, the
    ciphertext."""
    drop_id = secrets.token_urlsafe(12)
    sealed = sealing.drop_seal(
        drop_id=drop_id, kind=kind, plaintext=plaintext, passphrase=passphrase
    )
    seal = SealInput(
        drop_id=drop_id,
        salt=sealed.salt,
        iterations=sealed.iterations,
        verifiers=[k.verifier for k in sealed.keys],
        wrapped=[k.wrapped for k in sealed.keys],
    )
    keys = [sealing.access_key_display(key) for key in sealed.access_keys]
    return seal, keys, sealed.ciphertext


def _aready(work: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``work`` run right here, awaitable like :func:`_in_thread`'s."""

    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return work(*args, **kwargs)

    return run


# --- open -----------------------------------------------------------------------------
def _open_call(
    *, drop_id: str, verifier: bytes, client: str, ticket_key: bytes
) -> tuple[str, repository.OpenCall]:
    """A new audio ticket, and the open script's call that issues it with the view."""
    if not DROP_ID.fullmatch(drop_id):
        raise DropGone
    ticket = secrets.token_urlsafe(24)
    sealed_wrap = b""
    if ticket_key:
        sealed_wrap = sealing.aead_seal(
            sealing.ticket_key(ticket, drop_id), ticket_key, sealing.ticket_aad(drop_id)
        )
    call = repository.OpenCall(
        drop_id=drop_id,
        verifier_hash=sealing.verifier_hash(drop_id, verifier),
        client=client,
        now=int(time.time()),
        limits=WRONG_KEY_LIMITS,
        ticket_hash=sealing.lookup_hash("ticket", drop_id, ticket),
        ticket_grace=AUDIO_TICKET_SECONDS,
        ticket_mode="plain" if ticket_key else "raw",
        ticket_key=sealed_wrap,
    )
    return ticket, call


def _opened_view(
    opened: repository.Opened | tuple[int, int], ticket: str
) -> tuple[OpenedDrop, repository.Opened]:
    """The view the script granted (and the script's answer: did it burn the drop,
    on which network), or the refusal raised as DropGone, Throttled or WrongKey."""
    if not isinstance(opened, repository.Opened):
        code, wait = opened
        if code == 0:
            raise DropGone
        if code == -3:
            raise Throttled(wait)
        raise WrongKey(used=code == -2)
    metrics.DROPS_OPENED.inc()
    if opened.burned:
        metrics.DROPS_BURNED.labels("views").inc()
    view = OpenedDrop(
        kind=opened.kind,
        views_left=opened.views_left,
        expires_at=opened.expires_at,
        sealed_by=opened.sealed_by,
        salt=opened.salt,
        iterations=opened.iterations,
        wrapped=opened.wrapped,
        ciphertext=opened.ciphertext,
        mime=opened.mime,
        ticket=ticket if opened.kind == "voice" else None,
    )
    return view, opened


def _burned(*, drop_id: str, opened: repository.Opened) -> None:
    """A last view's follow-up steps, after the drop's slot burned it: the QR image
    goes, then the network's quota place and the media index entry (one best-effort
    pipeline, see repository.drop_gone)."""
    media.files_delete([media.qr_name(drop_id)])
    # A voice note still streams once through its ticket; the sweeper is the backstop.
    voice = opened.kind == "voice"
    repository.drop_gone(
        drop_id=drop_id,
        network=opened.network,
        files_until=int(time.time()) + AUDIO_TICKET_SECONDS if voice else None,
    )


def drop_open(*, drop_id: str, verifier: bytes, client: str, ticket_key: bytes = b"") -> OpenedDrop:
    """Spend one key, given its verifier, on one view; burn the drop on its last view.

    A voice drop's view comes with a single-use audio ticket, issued by the same
    script, so a view is never spent without the means to hear it.
    """
    ticket, call = _open_call(
        drop_id=drop_id, verifier=verifier, client=client, ticket_key=ticket_key
    )
    view, opened = _opened_view(repository.drop_open(call), ticket)
    if opened.burned:
        _burned(drop_id=drop_id, opened=opened)
    return view


async def adrop_open(
    *, drop_id: str, verifier: bytes, client: str, ticket_key: bytes = b""
) -> OpenedDrop:
    """:func:`drop_open` on the event loop, the same steps (a last view's follow-up,
    file deletion and the burn's quota/index pipeline, takes a thread)."""
    ticket, call = _open_call(
        drop_id=drop_id, verifier=verifier, client=client, ticket_key=ticket_key
    )
    view, opened = _opened_view(await repository.adrop_open(call), ticket)
    if opened.burned:
        await sync_to_async(_burned, thread_sensitive=False)(drop_id=drop_id, opened=opened)
    return view


def _derived(*, drop_id: str, key: str, salt: bytes, pass_hash: bytes) -> sealing.KeyDerivation:
    """The verifier and wrapping key a typed key (+ passphrase hash) derives."""
    canonical = sealing.access_key_normalize(key)
    # A malformed key is just a wrong key: the script still counts it.
    return sealing.derive(
        key=canonical or key[:64], drop_id=drop_id, salt=salt, pass_hash=pass_hash
    )


def _salt_and_iterations(found: dict[str, bytes | None] | None) -> tuple[bytes, int]:
    if found is None or found["salt"] is None:
        raise DropGone
    return found["salt"], int(found["it"] or 0)


def _text_opened(opened: OpenedDrop, derived: sealing.KeyDerivation, drop_id: str) -> OpenedDrop:
    if opened.kind == "voice":
        return opened
    data_key = sealing.data_key_unwrap(opened.wrapped, wrap_key=derived.wrap_key, drop_id=drop_id)
    text = sealing.content_open(data_key, opened.ciphertext, drop_id=drop_id, kind="text")
    return replace(opened, text=text.decode())


def drop_open_with_key(*, drop_id: str, key: str, passphrase: str, client: str) -> OpenedDrop:
    """Open on the server (no JavaScript, API programs): derive the verifier from the
    typed key (+ passphrase), open, and decrypt the text once, transiently."""
    if not DROP_ID.fullmatch(drop_id):
        raise DropGone
    found = repository.drop_fields(drop_id=drop_id, names=["salt", "it"])
    salt, iterations = _salt_and_iterations(found)
    pass_hash = sealing.passphrase_hash(passphrase, salt, iterations) if iterations else b""
    derived = _derived(drop_id=drop_id, key=key, salt=salt, pass_hash=pass_hash)
    opened = drop_open(
        drop_id=drop_id, verifier=derived.verifier, client=client, ticket_key=derived.wrap_key
    )
    return _text_opened(opened, derived, drop_id)


async def adrop_open_with_key(
    *, drop_id: str, key: str, passphrase: str, client: str
) -> OpenedDrop:
    """:func:`drop_open_with_key` on the event loop; a passphrase's hash (a slow KDF,
    which releases the GIL) runs in a worker thread."""
    if not DROP_ID.fullmatch(drop_id):
        raise DropGone
    found = await repository.adrop_fields(drop_id=drop_id, names=["salt", "it"])
    salt, iterations = _salt_and_iterations(found)
    pass_hash = b""
    if iterations:
        slow_hash = sync_to_async(sealing.passphrase_hash, thread_sensitive=False)
        pass_hash = await slow_hash(passphrase, salt, iterations)
    derived = _derived(drop_id=drop_id, key=key, salt=salt, pass_hash=pass_hash)
    opened = await adrop_open(
        drop_id=drop_id, verifier=derived.verifier, client=client, ticket_key=derived.wrap_key
    )
    return _text_opened(opened, derived, drop_id)


def audio_take(*, drop_id: str, ticket: str) -> tuple[bytes, str]:
    """Spend an audio ticket: the recording (decrypted and checked for a 'plain' ticket,
    the ciphertext for a 'raw' one) and its type, once. The ticket is spent only when
    the answer is ready, so a failure on the way leaves it usable."""
    if not DROP_ID.fullmatch(drop_id) or not TICKET.fullmatch(ticket):
        raise DropGone
    ticket_hash = sealing.lookup_hash("ticket", drop_id, ticket)
    fields = repository.ticket_read(drop_id=drop_id, ticket_hash=ticket_hash)
    if not fields or fields.get("drop", b"").decode() != drop_id:
        raise DropGone
    blob = media.voice_read(drop_id=drop_id)
    if blob is None:
        raise DropGone  # burned from its receipt meanwhile
    if fields.get("mode") == b"plain":
        wrap_key = sealing.aead_open(
            sealing.ticket_key(ticket, drop_id), fields["wk"], sealing.ticket_aad(drop_id)
        )
        data_key = sealing.data_key_unwrap(fields["w"], wrap_key=wrap_key, drop_id=drop_id)
        body = sealing.content_open(data_key, blob, drop_id=drop_id, kind="voice")
        try:
            mime = audio_inspect(body).mime
        except AudioRejected:
            raise BadAudio from None
    else:
        body, mime = blob, "application/octet-stream"
    if not repository.ticket_spend(drop_id=drop_id, ticket_hash=ticket_hash):
        raise DropGone  # a parallel request spent it first
    if fields.get("last") == b"1":
        media.files_delete([media.voice_name(drop_id)])
        repository.expiry_forget(drop_ids=[drop_id])
    return body, mime


def drop_burn(*, drop_id: str, receipt_token: str) -> bool:
    """Burn a drop from its receipt; False if the drop was already gone."""
    if not DROP_ID.fullmatch(drop_id) or not RECEIPT.fullmatch(receipt_token):
        raise DropGone
    token_hash = sealing.lookup_hash("receipt", drop_id, receipt_token)
    result, network = repository.drop_burn(
        drop_id=drop_id, token_hash=token_hash, now=int(time.time())
    )
    if result == -1:
        raise DropGone
    media.files_delete(media.drop_files(drop_id))
    repository.drop_gone(drop_id=drop_id, network=network)
    if result == 1:
        metrics.DROPS_BURNED.labels("receipt").inc()
    return result == 1
