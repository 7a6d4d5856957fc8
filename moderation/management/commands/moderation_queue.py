"""The moderation queue: what the community flagged, for an operator to act on.

The server never reads content, so operators judge by ids, counts and reasons,
and open the item in a browser when they need to see it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from moderation.repository import reports_list


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


class Command(BaseCommand):
    help = "List flagged and hidden posts and comments, most recently flagged first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON array.")
        parser.add_argument("--limit", type=int, default=200, help="At most this many rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        reports = reports_list(limit=options["limit"])
        now = int(time.time())
        if options["json"]:
            rows = [
                {
                    "type": r.kind,
                    "id": r.item_id,
                    "topic": r.topic,
                    "room": bool(r.room),
                    "post": r.post_id,
                    "flags": r.count,
                    "reasons": r.reasons,
                    "hidden": r.hidden,
                    "first_flagged_at": r.first_at,
                    "last_flagged_at": r.last_at,
                }
                for r in reports
            ]
            self.stdout.write(json.dumps(rows))
            return
        if not reports:
            self.stdout.write("Nothing to do.")
            return
        threshold = settings.FLAG_HIDE_THRESHOLD
        for r in reports:
            where = f"topic:{r.topic}" if r.topic else ("room" if r.room else "-")
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items()))
            state = "HIDDEN" if r.hidden else f"{r.count}/{threshold}"
            line = (
                f"{r.kind:<7} {r.item_id}  {where:<22} flags {r.count:<3} {state:<7} "
                f"{reasons}  (age {_age(now - r.first_at)})"
            )
            self.stdout.write(self.style.WARNING(line) if r.hidden else line)
        if options["verbosity"] >= 1:
            hidden = sum(1 for r in reports if r.hidden)
            self.stdout.write(self.style.NOTICE(f"{len(reports)} flagged, {hidden} hidden."))
