"""Moderation writes: community flags, hiding at the threshold, operator actions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from antispam.ratelimit import key_for_address, network_of
from boards import services as boards
from moderation import repository
from moderation.repository import FlagResult


@lru_cache(maxsize=2)
def _voter_secret(secret_key: str) -> bytes:
    return hashlib.blake2b(
        key=secret_key.encode()[:64], digest_size=32, person=b"nb-flag-voter"
    ).digest()


def flag_voter(*, kind: str, item_id: str, address: str) -> str:
    """Who flagged, as far as flags care: the client's wide network (IPv4 /24,
    IPv6 /48) bound to the item by an HMAC keyed from SECRET_KEY. Stable for the
    item's whole life (a network flags it once, across midnight too), unlinkable
    between items, and nothing in Redis gives the network back."""
    network = network_of(address, wide=True)
    message = f"{kind}:{item_id}:{network}".encode()
    return hmac.new(_voter_secret(settings.SECRET_KEY), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Flagged:
    result: FlagResult
    hidden: bool  # this very flag hid the item


def flag_create(*, kind: str, item_id: str, address: str, reason: str) -> Flagged:
    """Count a client network's flag; once enough distinct networks agree (the
    threshold rises with the thread's comments, see flag.lua), hide the item.

    Hiding is idempotent, so a crash between counting and hiding heals on the
    next flag.
    """
    result = repository.flag_record(
        kind=kind,
        item_id=item_id,
        voter=flag_voter(kind=kind, item_id=item_id, address=address),
        network=key_for_address(address, wide=True),
        reason=reason,
    )
    hidden = False
    if result.counted and result.count >= result.threshold:
        # The public log says why in the flaggers' own words: the reason category.
        hidden = item_hide(kind=kind, item_id=item_id, reason=f"Community flags: {reason}")
    return Flagged(result=result, hidden=hidden)


def flag_retry_after(*, address: str) -> int:
    """Seconds until the client's network may flag again (0: now)."""
    return repository.quota_retry_after(key_for_address(address, wide=True))


def item_hide(*, kind: str, item_id: str, reason: str = "") -> bool:
    """Hide from every feed and list; live pages drop it (``*:hidden``)."""
    if kind == "post":
        return boards.post_hide(post_id=item_id, reason=reason)
    return boards.comment_hide(comment_id=item_id, reason=reason)


def item_remove(*, kind: str, item_id: str, reason: str = "") -> bool:
    """Remove everywhere (a post takes its comments); False if it was not there.

    ``reason`` is public: it shows in the moderation log (moderation.log).
    """
    if kind == "post":
        removed = boards.post_remove(post_id=item_id, reason=reason)
    else:
        removed = boards.comment_remove(comment_id=item_id, reason=reason)
    repository.flags_clear(kind=kind, item_id=item_id)
    return removed


def item_restore(*, kind: str, item_id: str, reason: str = "") -> bool:
    """Clear the flags and show the item again; False if it is gone.

    Only an item that was hidden and is shown again counts in the public log.
    """
    if kind == "post":
        restored = boards.post_unhide(post_id=item_id, reason=reason)
    else:
        restored = boards.comment_unhide(comment_id=item_id, reason=reason)
    if restored is None:
        return False
    repository.flags_clear(kind=kind, item_id=item_id)
    return True
