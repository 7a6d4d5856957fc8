"""Drops' part in site-wide operations (nullboard.sitewide): what stats counts and
where the files live (the storage drops write with)."""

from __future__ import annotations

from drops import keys
from drops import media as files
from nullboard.sitewide import MediaFolder

COUNTED = {"drops": keys.DROP}


def media() -> list[MediaFolder]:
    """Sealed voice notes and QR images."""
    storage = files.storage()
    return [MediaFolder(storage, files.VOICE_DIR), MediaFolder(storage, files.QR_DIR)]
