"""Helpers for moderation tests: real posts and comments made through boards, and
visitors from networks of their own."""

import base64
import itertools
import os

import pytest
from django.test import Client

from boards import services
from tests.conftest import pow_fields

_networks = itertools.count(1)


def blob(size: int = 40) -> str:
    return base64.b64encode(b"\x01" + os.urandom(size)).decode()


@pytest.fixture
def post():
    return services.post_create(topic="news", blob=blob(), author="test-author-1000")


@pytest.fixture
def comment(post):
    return services.comment_create(post_id=post["id"], blob=blob(), author="test-author-1001")


def network_address() -> str:
    """An address in an IPv6 /48 no other visitor of the run uses (documentation range)."""
    return f"2001:db8:{next(_networks):x}::7"


def visitor(address: str | None = None) -> Client:
    """A fresh browser-like visitor with its own session, by default from a network
    of its own (flags count networks, not sessions)."""
    client = Client(REMOTE_ADDR=address or network_address())
    assert client.post("/api/session").status_code == 200
    return client


def flag(client: Client, kind: str, item_id: str, reason: str = "spam", *, work: bool = True):
    """POST /api/flags, with a solved proof of work unless ``work`` is False."""
    body = {"type": kind, "id": item_id, "reason": reason}
    if work:
        body.update(pow_fields(client))
    return client.post("/api/flags", body, content_type="application/json")
