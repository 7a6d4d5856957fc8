"""No capability token in a log line: Django's "Forbidden (...): /d/ID/receipt/TOKEN"
lines, the web server's own log, any handler of the project."""

from __future__ import annotations

import io
import logging
from urllib.parse import urlsplit

import pytest
from django.test import Client

from nullboard.logging import SCRUBBED, ScrubCapabilities, scrub
from tests.conftest import HttpClient, WebServer, pow_fields
from tests.privacy import TEST_CLIENT_ADDRESS, capabilities_in_text


def project_handler() -> logging.Handler:
    """The handler settings.LOGGING puts on the root logger."""
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, ScrubCapabilities) for f in handler.filters):
            return handler
    raise AssertionError("no project handler scrubs capabilities")


@pytest.fixture
def logged():
    """What the project's handler writes during the test."""
    handler = project_handler()
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.fixture
def receipt_path(client) -> str:
    body = {"text": "a secret", **pow_fields(client)}
    response = client.post("/api/drops", body, content_type="application/json")
    assert response.status_code == 201
    return urlsplit(response.json()["receipt_url"]).path


def test_a_forbidden_burn_logs_the_path_without_its_token(receipt_path, logged):
    token = receipt_path.rsplit("/", 1)[1]
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR=TEST_CLIENT_ADDRESS)
    assert strict.post(receipt_path).status_code == 403  # no CSRF token: refused
    lines = logged.getvalue()
    assert "Forbidden" in lines and "/receipt/" + SCRUBBED in lines
    assert token not in lines
    assert capabilities_in_text(lines) == []


def test_an_audio_ticket_and_keys_are_cut_from_any_record(logged):
    log = logging.getLogger("drops.test")
    log.warning("Not found: %s", "/d/AbCdEfGhIjKlMnOp/audio/" + "t" * 32)
    log.warning("opened with %s", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345")
    log.warning("body %s", {"key": "s3cret", "verifier": "v3rifier"})
    try:
        raise ValueError("/d/AbCdEfGhIjKlMnOp/receipt/" + "r" * 22)
    except ValueError:
        log.exception("failed")
    lines = logged.getvalue()
    for secret in ("t" * 32, "ABCD-EFGH", "s3cret", "v3rifier", "r" * 22):
        assert secret not in lines, secret
    assert capabilities_in_text(lines) == []


def test_scrub_keeps_lines_without_capabilities():
    line = "GET /api/posts?topic=news 200 /d/AbCdEfGhIjKlMnOp and /d/x/qr.svg"
    assert scrub(line) == line


@pytest.mark.redis
def test_the_web_server_logs_no_capability(real_redis):
    web = WebServer().start()
    try:
        client = HttpClient(web.url)
        client.get("/")
        status, _, body = client.post("/api/session")
        assert status == 200
        from tests.reliability.conftest import solved

        status, _, body = client.post("/api/drops", {"text": "hi", **solved(client)})
        assert status == 201
        import json

        path = urlsplit(json.loads(body)["receipt_url"]).path
        strict = HttpClient(web.url)  # no CSRF cookie: the burn is refused and logged
        assert strict.request("POST", path, {})[0] == 403
        assert client.get(path.replace("/receipt/", "/audio/"))[0] in (404, 410)
    finally:
        printed = web.stop()
    assert path.rsplit("/", 1)[1] not in printed
    assert capabilities_in_text(printed) == []
