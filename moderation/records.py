"""The records of moderation, each declared once: an item's flag hash (what
flag.lua writes) and the report the queue shows, made from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from django.utils.translation import gettext_lazy as _

KINDS = ("post", "comment")
# Each reason a flag may give, with the label pages show for it (in this order).
REASON_LABELS = {
    "spam": _("Spam"),
    "harassment": _("Harassment"),
    "illegal": _("Illegal content"),
    "doxxing": _("Doxxing"),
    "malware": _("Malware or phishing"),
    "other": _("Something else"),
}
REASONS = tuple(REASON_LABELS)

REASON_PREFIX = "reason:"  # one field per reason given: "reason:<r>" -> count


class FlagHash(TypedDict):
    """An item's flags (moderation.keys.FLAG), plus a count per reason."""

    count: int  # distinct networks that flagged it
    first_at: int  # Unix seconds
    last_at: int


@dataclass
class Report:
    """One flagged item as the moderation queue shows it."""

    kind: str
    item_id: str
    count: int
    reasons: dict[str, int]
    first_at: int
    last_at: int
    hidden: bool
    topic: str | None = None
    room: str | None = None
    post_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def report_from(*, kind: str, item_id: str, flags: Mapping[bytes, bytes], hidden: bool) -> Report:
    """A report from an item's flag hash (as HGETALL gives it)."""
    decoded = {name.decode(): value.decode() for name, value in flags.items()}
    reasons = {
        name.removeprefix(REASON_PREFIX): int(value)
        for name, value in decoded.items()
        if name.startswith(REASON_PREFIX)
    }
    return Report(
        kind=kind,
        item_id=item_id,
        count=int(decoded.get("count", 0)),
        reasons=reasons,
        first_at=int(decoded.get("first_at", 0)),
        last_at=int(decoded.get("last_at", 0)),
        hidden=hidden,
    )
