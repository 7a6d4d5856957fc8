"""Moderation writes: community flags, hiding at the threshold, operator actions."""

from __future__ import annotations

from django.conf import settings

from boards import services as boards
from moderation import store
from moderation.store import FlagResult


def flag_create(*, kind: str, item_id: str, voter: str, reason: str) -> FlagResult:
    """Count a visitor's flag; at FLAG_HIDE_THRESHOLD distinct visitors, hide the item.

    Hiding is idempotent, so a crash between counting and hiding heals on the
    next flag.
    """
    result = store.flag_record(kind=kind, item_id=item_id, voter=voter, reason=reason)
    if result.counted and result.count >= settings.FLAG_HIDE_THRESHOLD:
        item_hide(kind=kind, item_id=item_id)
    return result


def item_hide(*, kind: str, item_id: str) -> bool:
    """Hide from every feed and list; live pages drop it (``*:hidden``)."""
    if kind == "post":
        return boards.post_hide(post_id=item_id)
    return boards.comment_hide(comment_id=item_id)


def item_remove(*, kind: str, item_id: str) -> bool:
    """Remove everywhere (a post takes its comments); False if it was not there."""
    if kind == "post":
        removed = boards.post_remove(post_id=item_id)
    else:
        removed = boards.comment_remove(comment_id=item_id)
    store.flags_clear(kind=kind, item_id=item_id)
    return removed


def item_restore(*, kind: str, item_id: str) -> bool:
    """Clear the flags and show the item again; False if it is gone."""
    if kind == "post":
        restored = boards.post_unhide(post_id=item_id)
    else:
        restored = boards.comment_unhide(comment_id=item_id)
    if restored is None:
        return False
    store.flags_clear(kind=kind, item_id=item_id)
    return True
