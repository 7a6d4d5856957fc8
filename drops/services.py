"""Drop writes: create, open with a key, stream audio once, burn, and the rules
that guard them (life, views, wrong-key throttling, the media cap)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings

from drops import media, store
from drops.sealing import (
    access_key_display,
    access_key_generate,
    access_key_normalize,
    data_key_generate,
    lookup_hash,
    seal,
    unseal,
    unwrap,
    wrap,
)

KEYS_PER_DROP = 3
TEXT_MAX_CHARS = 10_000
DROP_ID = media.DROP_ID
TICKET = re.compile(r"^[A-Za-z0-9_-]{32}$")
RECEIPT = re.compile(r"^[A-Za-z0-9_-]{22}$")
AUDIO_TICKET_SECONDS = 60  # an audio_url works once, within a minute

# Keys carry 140 bits, so throttling is about noise, not odds.
WRONG_KEY_WINDOW = 600
WRONG_KEYS_PER_DROP = 10  # 10 wrong keys per drop per 10 minutes, from anyone
WRONG_KEYS_PER_CLIENT = 5  # 5 wrong keys per client per 10 minutes, on any drop


class DropGone(Exception):
    """Expired, burned or never existed: callers must not tell these apart."""


class WrongKey(Exception):
    """The key does not open this drop, or was used already."""

    def __init__(self, used: bool = False) -> None:
        super().__init__("used key" if used else "wrong key")
        self.used = used


class Throttled(Exception):
    """Too many wrong keys lately, for this drop or this client."""


class MediaFull(Exception):
    """The media folder is at its cap; voice drops wait for the sweeper."""


@dataclass(frozen=True)
class CreatedDrop:
    """A new drop with its keys and receipt token (the only time they exist)."""

    id: str
    kind: str
    keys: list[str]  # grouped for display
    receipt_token: str
    max_views: int
    expires_at: int


@dataclass(frozen=True)
class OpenedDrop:
    """One view's worth: the text, or a ticket for the audio."""

    kind: str
    views_left: int
    expires_at: int
    text: str | None = None
    ticket: str | None = None


def drop_life_choices() -> list[int]:
    """The lives the creator may pick: the default, then longer steps up to the cap."""
    steps = [settings.DROP_TTL_SECONDS, 300, 3600, 86400]
    low, high = settings.DROP_TTL_SECONDS, settings.DROP_MAX_TTL_SECONDS
    return sorted({s for s in steps if low <= s <= high})


def drop_create(
    *,
    link_base: str,
    ttl_seconds: int,
    max_views: int,
    text: str | None = None,
    audio: bytes | None = None,
    mime: str = "",
) -> CreatedDrop:
    """Seal and store a text or voice drop; write its QR image; return its keys once."""
    drop_id = secrets.token_urlsafe(12)
    data_key = data_key_generate()
    keys = [access_key_generate() for _ in range(KEYS_PER_DROP)]
    receipt_token = secrets.token_urlsafe(16)
    now = int(time.time())
    expires_at = now + ttl_seconds
    kind = "text" if audio is None else "voice"
    fields: dict[str, bytes | str | int] = {
        "kind": kind,
        "exp": expires_at,
        "views_left": max_views,
        "max_views": max_views,
    }
    for index, key in enumerate(keys, start=1):
        fields[f"h:{lookup_hash('key', drop_id, key)}"] = index
        fields[f"w{index}"] = wrap(data_key, secret=key, drop_id=drop_id)
    if audio is None:
        fields["ct"] = seal(data_key, (text or "").encode())
    else:
        sealed = seal(data_key, audio)
        # Race condition: two uploads may both pass the check; a little over is fine.
        if store.media_bytes() + len(sealed) > settings.MEDIA_MAX_BYTES:
            raise MediaFull
        media.voice_write(drop_id=drop_id, sealed=sealed)
        fields["mime"] = mime
    media.qr_write(drop_id=drop_id, link=link_base + drop_id)
    receipt = {
        "token": lookup_hash("receipt", drop_id, receipt_token),
        "kind": kind,
        "max_views": max_views,
        "exp": expires_at,
    }
    store.drop_save(
        drop_id=drop_id, fields=fields, receipt=receipt, ttl=ttl_seconds, expires_at=expires_at
    )
    return CreatedDrop(
        id=drop_id,
        kind=kind,
        keys=[access_key_display(key) for key in keys],
        receipt_token=receipt_token,
        max_views=max_views,
        expires_at=expires_at,
    )


def drop_open(*, drop_id: str, key: str, client: str) -> OpenedDrop:
    """Spend one key on one view; burn the drop on its last view."""
    if not DROP_ID.match(drop_id):
        raise DropGone
    per_drop, per_client = store.fails_count(drop_id=drop_id, client=client)
    if per_drop >= WRONG_KEYS_PER_DROP or per_client >= WRONG_KEYS_PER_CLIENT:
        raise Throttled
    canonical = access_key_normalize(key)
    # A malformed key is just a wrong key: the script still says whether the drop is gone.
    key_hash = lookup_hash("key", drop_id, canonical or key[:64])
    opened = store.drop_open(
        drop_id=drop_id, key_hash=key_hash, now=int(time.time()), audio_grace=AUDIO_TICKET_SECONDS
    )
    if opened == 0:
        raise DropGone
    if opened == -2:
        raise WrongKey(used=True)
    if not isinstance(opened, store.Opened) or canonical is None:
        store.fails_add(drop_id=drop_id, client=client, window=WRONG_KEY_WINDOW)
        raise WrongKey
    data_key = unwrap(opened.wrapped, secret=canonical, drop_id=drop_id)
    if opened.burned:
        media.files_delete([media.qr_name(drop_id)])
    result = {"kind": opened.kind, "views_left": opened.views_left, "expires_at": opened.expires_at}
    if opened.kind == "text":
        if opened.burned:
            store.expiry_forget(drop_ids=[drop_id])
        return OpenedDrop(**result, text=unseal(data_key, opened.sealed_text).decode())
    ticket = secrets.token_urlsafe(24)
    store.ticket_save(
        ticket_hash=lookup_hash("ticket", drop_id, ticket),
        fields={
            "drop": drop_id,
            "mime": opened.mime,
            "wrapped": wrap(data_key, secret=ticket, drop_id=drop_id, ticket=True),
            "last": "1" if opened.burned else "0",
        },
        ttl=AUDIO_TICKET_SECONDS,
    )
    return OpenedDrop(**result, ticket=ticket)


def audio_take(*, drop_id: str, ticket: str) -> tuple[bytes, str]:
    """Spend an audio ticket: the decrypted audio and its type, once."""
    if not DROP_ID.match(drop_id) or not TICKET.match(ticket):
        raise DropGone
    fields = store.ticket_take(ticket_hash=lookup_hash("ticket", drop_id, ticket))
    if not fields or fields.get("drop", b"").decode() != drop_id:
        raise DropGone
    sealed = media.voice_read(drop_id=drop_id)
    if sealed is None:
        raise DropGone  # burned from its receipt meanwhile
    data_key = unwrap(fields["wrapped"], secret=ticket, drop_id=drop_id, ticket=True)
    audio = unseal(data_key, sealed)
    if fields.get("last") == b"1":
        media.files_delete([media.voice_name(drop_id)])
        store.expiry_forget(drop_ids=[drop_id])
    return audio, fields["mime"].decode()


def drop_burn(*, drop_id: str, receipt_token: str) -> bool:
    """Burn a drop from its receipt; False if the drop was already gone."""
    if not DROP_ID.match(drop_id) or not RECEIPT.match(receipt_token):
        raise DropGone
    token_hash = lookup_hash("receipt", drop_id, receipt_token)
    result = store.drop_burn(drop_id=drop_id, token_hash=token_hash, now=int(time.time()))
    if result == -1:
        raise DropGone
    media.files_delete(media.drop_files(drop_id))
    store.expiry_forget(drop_ids=[drop_id])
    return result == 1
