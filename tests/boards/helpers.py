"""Helpers for boards tests: well-formed blobs and quick writes."""

from __future__ import annotations

import base64
import os

from boards import services
from nullboard import redis_utils


def blob(size: int = 40, version: int = 1) -> str:
    """A base64 blob of ``version || random bytes`` (the server never decrypts)."""
    return base64.b64encode(bytes([version]) + os.urandom(size - 1)).decode()


def make_post(topic: str = "news", room: str | None = None, author: str = "quiet-owl-1234"):
    if room:
        return services.post_create(room=room, blob=blob(), author=author)
    return services.post_create(topic=topic, blob=blob(), author=author)


def make_comment(post_id: str, author: str = "loud-cat-4321"):
    return services.comment_create(post_id=post_id, blob=blob(), author=author)


def keys_matching(pattern: str) -> list[bytes]:
    """Every key matching ``pattern``, by SCAN: on a cluster, from every master (KEYS
    asks one node only)."""
    return list(redis_utils.client().scan_iter(match=pattern, count=1000))
