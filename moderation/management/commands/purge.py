"""The panic button: burn every key and media file of the site, at once.

For an operator who must make sure nothing is left (a seizure, a compromise).
It refuses without --yes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation.stats import site_keys
from nullboard import redis_utils


class Command(BaseCommand):
    help = "Delete every nb: key in Redis and every media file. Needs --yes."

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="Really delete everything.")

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError("This deletes everything. Run again with --yes to purge.")
        conn = redis_utils.client()
        deleted = 0
        batch: list[bytes] = []
        for name in site_keys(conn):
            batch.append(name)
            if len(batch) >= 500:
                deleted += conn.unlink(*batch)
                batch.clear()
        if batch:
            deleted += conn.unlink(*batch)
        files, size = self._wipe_media(Path(settings.MEDIA_ROOT))
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Purged {deleted} keys and {files} media files ({size:,} bytes)."
                )
            )

    @staticmethod
    def _wipe_media(root: Path) -> tuple[int, int]:
        if not root.exists():
            return 0, 0
        files = [p for p in root.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return len(files), size
