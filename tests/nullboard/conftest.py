"""The site-wide tests that make drops leave no media behind for later tests."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _no_media_left():
    yield
    for folder in ("voice", "qr"):
        shutil.rmtree(settings.MEDIA_ROOT / folder, ignore_errors=True)
