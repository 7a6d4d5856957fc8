"""Drop reads for pages: is a drop live, and what its receipt says. None of
these spend a view, so link previews are harmless."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from drops import records, repository
from drops.sealing import b64encode, lookup_hash
from drops.services import DROP_ID, KEYS_PER_DROP, RECEIPT


@dataclass(frozen=True)
class DropPeek:
    """What anyone with the link may see: no content."""

    kind: str
    expires_at: int
    views_left: int
    salt: str  # base64: the browser needs it to derive a key's verifier
    iterations: int  # the passphrase hash's; 0 when there is no passphrase
    sealed_by: str  # "browser" or "server"

    @property
    def has_passphrase(self) -> bool:
        return self.iterations > 0


@dataclass(frozen=True)
class KeyUse:
    """One key by its position (1-3), and when it was used."""

    index: int
    used_at: int | None


@dataclass(frozen=True)
class Receipt:
    """The creator's view of a drop: uses and state, never keys."""

    kind: str
    max_views: int
    expires_at: int
    uses: list[KeyUse]
    burned_at: int | None
    live: bool

    @property
    def state(self) -> str:
        if self.live:
            return "live"
        return "burned" if self.burned_at else "expired"


def drop_peek(*, drop_id: str) -> DropPeek | None:
    """A live drop's kind, expiry and views left; None if gone (or never was)."""
    if not DROP_ID.fullmatch(drop_id):
        return None
    fields = repository.drop_fields(drop_id=drop_id, names=list(records.PEEK_FIELDS)) or {}
    found = {name: value for name, value in fields.items() if value is not None}
    if len(found) < len(records.PEEK_FIELDS):
        return None  # gone, or only reserved while its files are written
    expires_at = int(found["exp"])
    if expires_at <= time.time():
        return None
    return DropPeek(
        kind=found["kind"].decode(),
        expires_at=expires_at,
        views_left=int(found["views_left"]),
        salt=b64encode(found["salt"]),
        iterations=int(found["it"]),
        sealed_by=found["by"].decode(),
    )


def receipt_get(*, drop_id: str, token: str) -> Receipt | None:
    """What the creator may know: which keys were used and when, never the keys."""
    if not DROP_ID.fullmatch(drop_id) or not RECEIPT.fullmatch(token):
        return None
    fields = repository.receipt_fields(drop_id=drop_id)
    expected = lookup_hash("receipt", drop_id, token)
    if not hmac.compare_digest(fields.get("token", ""), expected):
        return None
    used = {i: fields.get(records.used_field(i)) for i in range(1, KEYS_PER_DROP + 1)}
    uses = [KeyUse(index=i, used_at=int(at) if at is not None else None) for i, at in used.items()]
    burned_at = int(fields["burned"]) if "burned" in fields else None
    return Receipt(
        kind=fields["kind"],
        max_views=int(fields["max_views"]),
        expires_at=int(fields["exp"]),
        uses=uses,
        burned_at=burned_at,
        live=burned_at is None and drop_peek(drop_id=drop_id) is not None,
    )
