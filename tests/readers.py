"""Test-only readers: a feed page as a dict, and the Redis keys one drop uses."""

from __future__ import annotations

from typing import Any

from boards import records, selectors
from drops import keys as drop_keys


def feed_page(
    *,
    topic: str | None = None,
    room: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """One page of a feed, ``{items, next_cursor}``, shaped from the script's rows by
    the post record (the API writes the same from the same rows as bytes)."""
    rows, next_cursor = selectors.feed_rows(topic=topic, room=room, cursor=cursor, after=after)
    return {
        "items": [records.POST.from_row(row) for row in rows],
        "next_cursor": next_cursor.decode() if next_cursor else None,
    }


def keys_of(*, drop_id: str) -> list[str]:
    """Every Redis key one drop uses (for MEMORY USAGE in the benchmark)."""
    return [drop_keys.DROP(id=drop_id), drop_keys.RECEIPT(id=drop_id)]
