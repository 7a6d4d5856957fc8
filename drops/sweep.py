"""Sweeping media: delete the voice files and QR images whose drop is gone.

Two sources: the expiry index (drops whose time is up) and a scan of the media
folders for orphans (a crash between writing a file and saving its drop, or an
index lost with Redis). A Redis lock keeps concurrent sweepers from racing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

from drops import media, repository
from nullboard import metrics

LOCK_SECONDS = 300  # longer than any pass; a crashed sweeper frees it by itself
BATCH = 1000


@dataclass
class SweepReport:
    """What one pass removed (or would), and the bytes it left."""

    locked_out: bool = False
    removed: list[tuple[str, int]] = field(default_factory=list)
    kept_bytes: int = 0

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.removed)

    def count(self, folder: str) -> int:
        return sum(1 for name, _ in self.removed if name.startswith(folder + "/"))


def _listing(folder: str) -> list[str]:
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    return [f"{folder}/{name}" for name in files]


def _remove(report: SweepReport, names: list[str], *, dry_run: bool) -> None:
    for name in names:
        size = media.file_size(name)
        if not dry_run:
            media.files_delete([name])
        report.removed.append((name, size))


def _sweep_due(report: SweepReport, *, now: float, dry_run: bool) -> None:
    """Files of drops whose time in the index is up."""
    handled: set[str] = set()
    while True:
        due = [i for i in repository.expiry_due(now=now, limit=BATCH) if i not in handled]
        if not due:
            return
        live = repository.drops_live(drop_ids=due, now=now)
        gone = [drop_id for drop_id in due if drop_id not in live]
        handled.update(due)
        for drop_id in gone:
            names = [name for name in media.drop_files(drop_id) if default_storage.exists(name)]
            _remove(report, names, dry_run=dry_run)
        if not dry_run:
            repository.expiry_forget(drop_ids=gone)
            metrics.DROPS_SWEPT.inc(len(gone))
        if len(due) < BATCH:
            return


def _sweep_orphans(report: SweepReport, *, now: float, grace: int, dry_run: bool) -> None:
    """Files with no live drop and no place in the index, older than the grace period."""
    for folder in (media.VOICE_DIR, media.QR_DIR):
        names = _listing(folder)
        for start in range(0, len(names), BATCH):
            chunk = names[start : start + BATCH]
            ids = {name: media.drop_id_of(name.split("/", 1)[1]) for name in chunk}
            known = [i for i in set(ids.values()) if i]
            live = repository.drops_live(drop_ids=known, now=now) | repository.expiry_pending(
                drop_ids=known
            )
            for name in chunk:
                drop_id = ids[name]
                if drop_id is None:
                    continue  # not a drop's file: not ours to judge
                if drop_id in live:
                    report.kept_bytes += media.file_size(name)
                    continue
                try:
                    modified = default_storage.get_modified_time(name).timestamp()
                except FileNotFoundError:
                    continue
                if now - modified < grace:
                    report.kept_bytes += media.file_size(name)
                    continue
                _remove(report, [name], dry_run=dry_run)


def media_sweep(*, now: float, grace: int, dry_run: bool = False) -> SweepReport:
    """One sweeping pass under the lock; a second sweeper steps aside."""
    report = SweepReport()
    token = secrets.token_hex(16)
    if not repository.sweep_lock(token=token, ttl=LOCK_SECONDS):
        report.locked_out = True
        return report
    try:
        _sweep_due(report, now=now, dry_run=dry_run)
        # In a dry run the due drops stay in the index, so the scan skips their files.
        _sweep_orphans(report, now=now, grace=grace, dry_run=dry_run)
        if not dry_run:
            # Re-count what is on disk, so the media cap heals from any drift.
            repository.media_bytes_set(amount=report.kept_bytes)
    finally:
        repository.sweep_unlock(token=token)
    return report
