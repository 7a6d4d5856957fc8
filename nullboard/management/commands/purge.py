"""The panic button: burn every key and media file of the site, at once.

For an operator who must make sure nothing is left (a seizure, a compromise).
It refuses without --yes. Files go through the storage API, so media on object
storage burns too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nullboard import sitewide


class Command(BaseCommand):
    help = "Delete every nb: key in Redis and every media file. Needs --yes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--yes", action="store_true", help="Really delete everything.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError("This deletes everything. Run again with --yes to purge.")
        done = sitewide.purge()
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Purged {done['keys']} keys and {done['files']} media files "
                    f"({done['bytes']:,} bytes)."
                )
            )
