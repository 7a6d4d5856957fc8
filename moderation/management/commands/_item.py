"""Shared arguments for the commands that act on one post or comment."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from boards.validation import is_item_id
from moderation.log import REASON_MAX_CHARS, ReasonError, reason_clean


def add_item_arguments(parser: CommandParser) -> None:
    parser.add_argument("kind", choices=["post", "comment"], help="What the id names.")
    parser.add_argument("id", help="The post or comment id.")
    parser.add_argument(
        "--reason",
        default="",
        help=f"A short public reason (at most {REASON_MAX_CHARS} characters) for /moderation.",
    )


def reason_from(options: dict[str, Any]) -> str:
    """The public reason, checked before anything changes."""
    try:
        return reason_clean(options["reason"])
    except ReasonError as exc:
        raise CommandError(str(exc)) from None


def item_from(options: dict[str, Any]) -> tuple[str, str]:
    if not is_item_id(options["id"]):
        raise CommandError(f"{options['id']!r} is not a {options['kind']} id.")
    return options["kind"], options["id"]
