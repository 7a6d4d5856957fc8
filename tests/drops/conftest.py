"""Drops tests start with empty media folders, as they start with an empty store."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _empty_media():
    for folder in ("voice", "qr"):
        shutil.rmtree(settings.MEDIA_ROOT / folder, ignore_errors=True)
    yield
