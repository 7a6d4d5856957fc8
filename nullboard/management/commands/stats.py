"""Live counts of the site, for operators who cannot read any content."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nullboard.sitewide import stats_collect


class Command(BaseCommand):
    help = "Print live counts: sessions, posts, comments, rooms, drops, flags, media, memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = stats_collect()
        if options["json"]:
            self.stdout.write(json.dumps(counts, sort_keys=True))
            return
        width = max(len(name) for name in counts)
        for name, value in counts.items():
            self.stdout.write(f"{name.replace('_', ' '):<{width}}  {value:>12,}")
