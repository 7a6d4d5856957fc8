"""Helpers for moderation tests: real posts and comments made through boards."""

import base64
import os

import pytest
from django.test import Client

from boards import services


def blob(size: int = 40) -> str:
    return base64.b64encode(b"\x01" + os.urandom(size)).decode()


@pytest.fixture
def post():
    return services.post_create(topic="news", blob=blob(), author="test-author-1000")


@pytest.fixture
def comment(post):
    return services.comment_create(post_id=post["id"], blob=blob(), author="test-author-1001")


def visitor() -> Client:
    """A fresh browser-like visitor with its own session."""
    client = Client()
    assert client.post("/api/session").status_code == 200
    return client


def flag(client: Client, kind: str, item_id: str, reason: str = "spam"):
    return client.post(
        "/api/flags",
        {"type": kind, "id": item_id, "reason": reason},
        content_type="application/json",
    )
