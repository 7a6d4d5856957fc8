"""The Procfile's web line (Hypercorn) serves the site and logs no client address."""

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import ROOT, HttpClient, free_port, wait_for_http


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_web_line_runs_hypercorn_on_port_for_the_asgi_app():
    web = procfile()["web"]
    assert web.startswith("hypercorn --config python:nullboard.server ")
    assert "--bind 0.0.0.0:$PORT" in web
    assert web.endswith("nullboard.asgi:application")


def test_render_starts_the_same_web_server():
    render = (ROOT / "render.yaml").read_text()
    assert procfile()["web"] in render


def test_the_web_process_writes_no_client_address(tmp_path: Path):
    port = free_port()
    command = procfile()["web"].replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1")
    argv = shlex.split(command)
    argv[0] = str(Path(os.sys.executable).with_name(argv[0]))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/")
            client = HttpClient(f"http://127.0.0.1:{port}")
            assert client.get("/")[0] == 200
            assert client.post("/api/session")[0] == 200
            assert client.get("/nope")[0] == 404
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        output.seek(0)
        printed = output.read().decode()
    assert "127.0.0.1" not in printed
