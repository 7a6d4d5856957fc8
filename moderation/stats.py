"""Live counts for operators, from one SCAN over the site's keys."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from nullboard import redis_utils

# One pattern per counted thing, applied with fullmatch (``$`` would also match
# before a final newline); a key is counted by the first that matches.
_KINDS = {
    "sessions": re.compile(rb"nb:\d+:django\.contrib\.sessions\.cache[a-z0-9]+"),
    "posts": re.compile(rb"nb:post:[0-9a-f]+"),
    "comments": re.compile(rb"nb:comment:[0-9a-f]+"),
    "rooms": re.compile(rb"nb:room:[A-Za-z0-9_-]+"),
    "drops": re.compile(rb"nb:drop:[A-Za-z0-9_-]+"),
    "flags": re.compile(rb"nb:flag:(post|comment):[0-9a-f]+"),
}


def media_bytes() -> tuple[int, int]:
    """(files, bytes) under MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT)
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def site_keys(conn=None, batch: int = 1000):
    """Every key of the site, by SCAN (never KEYS, which blocks Redis)."""
    conn = conn or redis_utils.client()
    yield from conn.scan_iter(match=redis_utils.PREFIX + "*", count=batch)


def stats_collect() -> dict[str, int]:
    """Counts of live things, hidden items, media and Redis memory."""
    conn = redis_utils.client()
    counts = dict.fromkeys(_KINDS, 0)
    counts["keys"] = 0
    items: list[bytes] = []
    for name in site_keys(conn):
        counts["keys"] += 1
        for kind, pattern in _KINDS.items():
            if pattern.fullmatch(name):
                counts[kind] += 1
                if kind in ("posts", "comments"):
                    items.append(name)
                break
    pipe = conn.pipeline(transaction=False)
    for name in items:
        pipe.hexists(name, "hidden")
    counts["hidden"] = sum(1 for hidden in pipe.execute() if hidden)
    counts["media_files"], counts["media_bytes"] = media_bytes()
    counts["redis_memory_bytes"] = int(conn.info("memory").get("used_memory", 0))
    return counts
