"""docs/openapi.yaml against the running site: schemathesis with every check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.reliability.conftest import session_client

pytestmark = pytest.mark.redis

SPEC = ROOT / "docs" / "openapi.yaml"

# A drop that is gone answers 410 (like 404 for a post), and input over a size
# limit 413: both are expected refusals of bad or stale input. A client-made drop id
# that is taken answers 409 (schemathesis reuses ids).
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "403", "404", "405", "409", "410", "413", "429"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "403", "404", "409", "410", "429"]
"""


def test_the_spec_is_valid_openapi_3_1():
    import schemathesis

    schema = schemathesis.openapi.from_path(SPEC)
    assert schema.raw_schema["openapi"] == "3.1.0"
    labels = {op.ok().label for op in schema.get_all_operations()}
    assert labels == {
        "POST /api/session",
        "GET /api/posts",
        "POST /api/posts",
        "GET /api/posts/{post_id}",
        "GET /api/posts/{post_id}/comments",
        "POST /api/posts/{post_id}/comments",
        "GET /api/topics/trending",
        "POST /api/rooms",
        "POST /api/flags",
        "POST /api/drops",
        "GET /api/drops/{drop_id}",
        "POST /api/drops/{drop_id}/open",
    }


def test_every_api_url_of_the_site_is_in_the_spec():
    import re

    import yaml

    from tests.reliability.test_security import every_pattern

    documented = set(yaml.safe_load(SPEC.read_text())["paths"])
    routes = {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        for route in every_pattern()
        if route.startswith("api/")
    }
    assert routes == documented


def test_schemathesis_finds_nothing_against_a_web(web, tmp_path: Path):
    client = session_client(web.url)
    assert client.post("/api/session")[0] == 200
    cookies = "; ".join(f"{c.name}={c.value}" for c in client.jar)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        str(SPEC),
        "--url",
        web.url,
        "--checks",
        "all",
        "--max-examples",
        "25",
        "--seed",
        os.environ.get("NB_SCHEMATHESIS_SEED", "7"),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--header",
        f"Cookie: {cookies}",
        "--header",
        f"X-CSRFToken: {client.csrf()}",
        "--header",
        f"Origin: {web.url}",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.reliability.schemathesis_hooks"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=170, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "No issues found" in output or "passed" in output, output[-4000:]
