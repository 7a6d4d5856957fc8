"""Every page hands its scripts one json_script block: the URLs they use (from the
URL map) and the flag reasons moderation takes, and static/ writes no path itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from moderation.repository import REASON_LABELS, REASONS

BLOCK = re.compile(r'<script id="client-config" type="application/json">(.*?)</script>', re.S)


def config_of(response) -> dict:
    found = BLOCK.findall(response.content.decode())
    assert len(found) == 1
    return json.loads(found[0])


@pytest.mark.parametrize(
    "path", ["/", "/topic/news", "/trending", "/rooms", "/drops/new", "/about"]
)
def test_every_page_hands_scripts_the_config_block(client, path):
    response = client.get(path)
    assert response.status_code == 200
    config = config_of(response)
    assert config["urls"]["api-posts"] == reverse("api-posts")
    assert config["urls"]["api-post"] == reverse("api-post", kwargs={"post_id": "ID"}).replace(
        "ID", ":post_id"
    )
    assert config["live"] == "/ws/feed/"


def test_the_flag_reasons_are_moderations_own(client):
    config = config_of(client.get("/"))
    assert [item["reason"] for item in config["flag_reasons"]] == list(REASONS)
    assert [item["label"] for item in config["flag_reasons"]] == list(REASON_LABELS.values())


def test_scripts_write_no_site_path_of_their_own():
    """Paths come from the config block; only the vendored code is left alone."""
    static = Path(settings.BASE_DIR) / "static"
    literal = re.compile(r"""["'`]/(api|topic|post|r|d|ws|rules|drops)\b""")
    found = [
        f"{path.relative_to(static)}:{number}"
        for path in static.rglob("*.js")
        if "vendor" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []
