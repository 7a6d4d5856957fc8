"""Site-wide operations (``stats``, ``purge``): every app declares its part in an
``ops`` module, and this one asks them all.

An app's ``ops`` may give ``COUNTED`` (name -> KeyFormat: live things counted by
key), ``counts(found, conn)`` (more counts from the keys found per name) and
``media()`` (the storage folders its files live in). Files are reached through
Django's storage API only, so a site on object storage purges and counts the
same as one on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage
from django.utils.module_loading import module_has_submodule

from nullboard import redis_utils

UNLINK_BATCH = 500


@dataclass(frozen=True)
class MediaFolder:
    """A folder of an app's files in a storage backend."""

    storage: Storage
    folder: str


def app_parts() -> list[ModuleType]:
    """Every installed app's ``ops`` module, in INSTALLED_APPS order."""
    return [
        import_module(f"{config.name}.ops")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "ops")
    ]


def media_folders() -> list[MediaFolder]:
    """Every app's media folders."""
    folders: list[MediaFolder] = []
    for part in app_parts():
        if hasattr(part, "media"):
            folders += part.media()
    return folders


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    """Names of every file under ``folder``, through the storage API."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for child in folders:
        yield from _walk(storage, f"{folder}/{child}")


def media_files() -> Iterator[tuple[MediaFolder, str, int]]:
    """(folder, name, bytes) of every media file of the site."""
    for place in media_folders():
        for name in _walk(place.storage, place.folder):
            try:
                yield place, name, place.storage.size(name)
            except FileNotFoundError:
                continue  # deleted meanwhile (a sweeper or a burn)


def stats_collect() -> dict[str, int]:
    """Counts of live things, hidden items, media and Redis memory, from one SCAN."""
    conn = redis_utils.client()
    parts = app_parts()
    counted = {name: fmt for part in parts for name, fmt in getattr(part, "COUNTED", {}).items()}
    found: dict[str, list[bytes]] = {name: [] for name in counted}
    total = 0
    for key in redis_utils.site_keys(conn):
        total += 1
        for name, key_format in counted.items():
            if key_format.matches(key):
                found[name].append(key)
                break
    counts: dict[str, int] = {name: len(keys) for name, keys in found.items()}
    counts["keys"] = total
    for part in parts:
        more: Callable[..., dict[str, int]] | None = getattr(part, "counts", None)
        if more is not None:
            counts.update(more(found=found, conn=conn))
    sizes = [size for _, _, size in media_files()]
    counts["media_files"], counts["media_bytes"] = len(sizes), sum(sizes)
    counts["redis_memory_bytes"] = int(conn.info("memory").get("used_memory", 0))
    return counts


def purge() -> dict[str, Any]:
    """Delete every key of the site and every media file; what was deleted."""
    conn = redis_utils.client()
    deleted = 0
    batch: list[bytes] = []
    for key in redis_utils.site_keys(conn):
        batch.append(key)
        if len(batch) >= UNLINK_BATCH:
            deleted += conn.unlink(*batch)
            batch.clear()
    if batch:
        deleted += conn.unlink(*batch)
    files = size = 0
    for place, name, bytes_ in list(media_files()):
        place.storage.delete(name)
        files, size = files + 1, size + bytes_
    return {"keys": deleted, "files": files, "bytes": size}
