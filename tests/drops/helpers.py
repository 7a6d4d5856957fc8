"""Helpers for the drops tests: create drops through the real API."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from django.core.files.uploadedfile import SimpleUploadedFile

from drops import services
from tests.conftest import pow_fields

SECRET_TEXT = "meet at the old bridge at nine, bring the blue folder"


def create_text(client, text: str = SECRET_TEXT, **extra) -> dict:
    response = client.post(
        "/api/drops", {"text": text, **pow_fields(client), **extra}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def post_voice(client, data: bytes, name: str = "voice.webm", **extra):
    audio = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post("/api/drops", {"audio": audio, **pow_fields(client), **extra})


def create_voice(client, data: bytes, **extra) -> dict:
    response = post_voice(client, data, **extra)
    assert response.status_code == 201, response.content
    return response.json()


def open_drop(client, drop_id: str, key: str):
    return client.post(f"/api/drops/{drop_id}/open", {"key": key}, content_type="application/json")


def crowd_open(open_one: Callable[[int], object], crowd: int = 50) -> list[str]:
    """``crowd`` threads released at once, the n-th calling ``open_one(n)``: each
    answers "ok", "used" (a wrong or spent key) or "gone"."""
    barrier = Barrier(crowd)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            open_one(n)
        except services.WrongKey:
            return "used"
        except services.DropGone:
            return "gone"
        return "ok"

    with ThreadPoolExecutor(max_workers=crowd) as pool:
        return list(pool.map(attempt, range(crowd)))
