"""Remove one post or comment everywhere, live pages included.

A post takes its comments with it; the flags on the item go too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.management.commands._item import (
    add_item_arguments,
    item_from,
    reason_from,
)
from moderation.services import item_remove


class Command(BaseCommand):
    help = "Remove a post (with its comments) or a comment everywhere, live clients included."

    def add_arguments(self, parser: CommandParser) -> None:
        add_item_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        kind, item_id = item_from(options)
        reason = reason_from(options)
        if not item_remove(kind=kind, item_id=item_id, reason=reason):
            raise CommandError(f"No {kind} {item_id}: unknown, expired or already removed.")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Removed {kind} {item_id}."))
