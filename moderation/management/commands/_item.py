"""Shared arguments for the commands that act on one post or comment."""

from __future__ import annotations

from django.core.management.base import CommandError

from boards.validation import is_item_id


def add_item_arguments(parser) -> None:
    parser.add_argument("kind", choices=["post", "comment"], help="What the id names.")
    parser.add_argument("id", help="The post or comment id.")


def item_from(options) -> tuple[str, str]:
    if not is_item_id(options["id"]):
        raise CommandError(f"{options['id']!r} is not a {options['kind']} id.")
    return options["kind"], options["id"]
