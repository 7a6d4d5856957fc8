"""`make run` installs requirements/base.txt only, and the site needs nothing more.

The tests' venv holds dev.txt too, so a site that imported a test or lint tool at start
would pass every other test and fail on a fresh `make run`. Building a second venv from
base.txt here would take most of a minute; instead a clean process starts the site as
runserver does (settings, apps, checks, the URLs, the ASGI app, the runserver command, a
page and a session) and every package it imported must be base.txt's or one they require.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, wait_for_http

# Every installed package outside base.txt's closure is made unimportable, as if absent
# (optional imports, such as Twisted's of h2, then fail as they would on a fresh
# `make run`); then the site starts and serves, and nothing outside it got imported.
START_THE_SITE = """
import importlib, importlib.abc, json, sys
from importlib.metadata import packages_distributions
from packaging.utils import canonicalize_name
allowed = set(json.loads(sys.stdin.read()))
owners = packages_distributions()
absent = {
    name for name, dists in owners.items()
    if not {canonicalize_name(d) for d in dists} & allowed and name not in sys.modules
}
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in absent:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
import django
django.setup()
from django.conf import settings
from django.core.management import call_command, load_command_class
from django.test import Client
call_command("check", fail_level="ERROR")
importlib.import_module(settings.ROOT_URLCONF)
importlib.import_module("nullboard.asgi")
load_command_class("daphne", "runserver")
client = Client(HTTP_HOST="127.0.0.1")
assert client.get("/").status_code == 200
assert client.post("/api/session").status_code == 200
imported = {name.split(".")[0] for name in sys.modules}
print(json.dumps({
    "outside": sorted(imported & absent),
    "used": sorted({canonicalize_name(d) for name in imported for d in owners.get(name, [])}),
}))
"""

# The closure of base.txt's requirements (extras and markers included) over what is
# installed, as distribution names.
BASE_CLOSURE = """
import json, sys
from importlib.metadata import distribution
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
todo = [Requirement(line) for line in sys.stdin.read().splitlines()]
seen = {}
while todo:
    req = todo.pop()
    name = canonicalize_name(req.name)
    if name in seen and set(req.extras) <= seen[name]:
        continue
    extras = seen[name] = seen.get(name, set()) | set(req.extras)
    for line in distribution(req.name).requires or []:
        dep = Requirement(line)
        if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras | {""}):
            todo.append(dep)
print(json.dumps(sorted(seen)))
"""


def base_requirements() -> list[str]:
    lines = (ROOT / "requirements" / "base.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def run_python(code: str, stdin: str = "") -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "REDIS_", "PYTEST"))
    }
    env |= {"DJANGO_SETTINGS_MODULE": "nullboard.settings", "DEBUG": "true", "HTTPS": "false"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_the_site_starts_on_base_txt_packages_only():
    allowed = run_python(BASE_CLOSURE, "\n".join(base_requirements()))
    started = json.loads(run_python(START_THE_SITE, allowed))
    assert started["outside"] == []
    assert {"django", "daphne", "lupa"} <= set(started["used"])  # the site, runserver, the store


def make_dry_run(tmp_path: Path, *args: str) -> str:
    """What `make -n ARGS` would run in a fresh clone (no .venv), PORT unset."""
    if shutil.which("make") is None:
        pytest.skip("needs make")
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements", dirs_exist_ok=True)
    # Nothing of an outer make (`make test` runs the suite): its MAKEFLAGS and level
    # would add "Entering directory" lines and its variables.
    outer = {"PORT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    env = {key: value for key, value in os.environ.items() if key not in outer}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_make_run_installs_base_txt_only(tmp_path: Path):
    commands = make_dry_run(tmp_path, "run")
    installs = [line for line in commands.splitlines() if " install " in line]
    assert installs and all("-r requirements/base.txt" in line for line in installs)
    assert "dev.txt" not in commands and "prod.txt" not in commands


def test_make_run_serves_on_8000_unless_port_is_given(tmp_path: Path):
    assert make_dry_run(tmp_path, "run").rstrip().endswith("runserver 127.0.0.1:8000")
    assert make_dry_run(tmp_path, "run", "PORT=8123").rstrip().endswith("runserver 127.0.0.1:8123")


def test_make_test_installs_the_rest(tmp_path: Path):
    commands = make_dry_run(tmp_path, "test")
    assert "-r requirements/dev.txt" in commands


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_runserver_loads_the_site_once_and_still_reloads(tmp_path: Path):
    """manage.py's reloading parent only restarts the child: the site loads in the child
    alone (one start's imports instead of two), and a changed file still restarts it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {"DEBUG": "true", "HTTPS": "false"}
    # The embedded store, whose lupa shows the site is loaded (whatever store the run has).
    for name in ("REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS", "CHANNEL_REDIS_URLS"):
        env.pop(name, None)
    started: list[int] = []
    with (tmp_path / "output").open("wb") as output:
        parent = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
            [child] = started = children(parent.pid)
            assert "lupa" in mapped_files(child)
            assert "lupa" not in mapped_files(parent.pid)
            assert "_rust.abi3" not in mapped_files(parent.pid)  # nor cryptography

            deadline = time.monotonic() + 60
            while children(parent.pid) in ([], [child]) and time.monotonic() < deadline:
                os.utime(ROOT / "nullboard" / "urls.py")  # the reloader polls once a second
                time.sleep(0.2)
            started.extend(children(parent.pid))
            assert started != [child]
            wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
        finally:
            started.extend(children(parent.pid))
            parent.terminate()  # which stops its child, as Django's own parent does
            parent.wait(timeout=10)
            for pid in started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
