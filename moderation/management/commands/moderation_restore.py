"""Undo community hiding: clear an item's flags and show it again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.management.commands._item import (
    add_item_arguments,
    item_from,
    reason_from,
)
from moderation.services import item_restore


class Command(BaseCommand):
    help = "Clear the flags on a post or comment and show it again if it was hidden."

    def add_arguments(self, parser: CommandParser) -> None:
        add_item_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        kind, item_id = item_from(options)
        reason = reason_from(options)
        if not item_restore(kind=kind, item_id=item_id, reason=reason):
            raise CommandError(f"No {kind} {item_id}: unknown or expired.")
        if options["verbosity"] >= 1:
            message = f"Restored {kind} {item_id}; its flags are cleared."
            self.stdout.write(self.style.SUCCESS(message))
