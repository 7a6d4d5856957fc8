"""sweep_media: files of expired drops and old orphans go; live ones stay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import time_machine
from django.conf import settings
from django.core.management import call_command

from drops import keys as drop_keys
from drops import media, repository
from nullboard import redis_utils as nb_store
from tests.drops import samples
from tests.drops.helpers import create_text, create_voice

ROOT = Path(__file__).resolve().parents[2]


def sweep(*args, at: float | None = None) -> str:
    out = StringIO()
    with time_machine.travel(at or time.time(), tick=False):
        call_command("sweep_media", *args, stdout=out)
    return out.getvalue()


def files_of(drop_id: str) -> list[Path]:
    return [settings.MEDIA_ROOT / name for name in media.drop_files(drop_id)]


def test_it_says_nothing_to_do():
    assert "Nothing to do." in sweep()


def test_it_removes_the_files_of_drops_whose_time_is_up(client):
    voice = create_voice(client, samples.webm(2))
    text = create_text(client)
    live = create_text(client, ttl_seconds=3600)
    out = sweep("-v", "2", at=time.time() + settings.DROP_TTL_SECONDS + 1)
    assert not any(p.exists() for p in files_of(voice["id"]) + files_of(text["id"]))
    assert (settings.MEDIA_ROOT / media.qr_name(live["id"])).exists()
    assert "Removed 3 files (1 voice, 2 QR)" in out
    assert f"voice/{voice['id']}.sealed" in out
    assert repository.expiry_due(now=time.time() + 10**6) == [live["id"]]


def test_a_dry_run_lists_and_removes_nothing(client):
    drop = create_voice(client, samples.webm(2))
    out = sweep("--dry-run", at=time.time() + 3600)
    assert f"Would remove voice/{drop['id']}.sealed" in out
    assert "Would remove 2 files (1 voice, 1 QR)" in out
    assert all(p.exists() for p in files_of(drop["id"]))
    assert "Removed 2 files" in sweep(at=time.time() + 3600)


def test_it_leaves_live_drops_alone(client):
    drop = create_voice(client, samples.webm(2))
    assert "Nothing to do." in sweep()
    assert all(p.exists() for p in files_of(drop["id"]))


def test_it_removes_orphans_older_than_the_grace_period():
    folder = settings.MEDIA_ROOT / "voice"
    folder.mkdir(parents=True, exist_ok=True)
    old, young = folder / "AAAAAAAAAAAAAAAA.sealed", folder / "BBBBBBBBBBBBBBBB.sealed"
    old.write_bytes(b"x" * 100)
    young.write_bytes(b"y" * 50)
    past = time.time() - settings.DROP_SWEEP_GRACE_SECONDS - 60
    os.utime(old, (past, past))
    out = sweep()
    assert not old.exists() and young.exists()
    assert "Removed 1 files (1 voice, 0 QR), 100 bytes." in out


def test_it_keeps_a_burned_voice_note_until_its_ticket_is_spent(client):
    drop = create_voice(client, samples.webm(2), max_views=1)
    client.post(
        f"/api/drops/{drop['id']}/open", {"key": drop["keys"][0]}, content_type="application/json"
    )
    voice = settings.MEDIA_ROOT / media.voice_name(drop["id"])
    sweep()
    assert voice.exists()
    sweep(at=time.time() + 61)
    assert not voice.exists()


def test_it_recounts_the_media_on_disk(client):
    create_voice(client, samples.webm(2))
    repository.media_bytes_set(amount=10**9)
    sweep()
    on_disk = sum(p.stat().st_size for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    assert repository.media_bytes() == on_disk


def test_a_second_sweeper_steps_aside(client):
    drop = create_voice(client, samples.webm(2))
    assert repository.sweep_lock(token="other", ttl=86400)  # fakeredis follows time_machine
    out = sweep(at=time.time() + 3600)
    assert "Another sweeper is at work" in out
    assert all(p.exists() for p in files_of(drop["id"]))
    repository.sweep_unlock(token="other")
    assert "Removed 2 files" in sweep(at=time.time() + 3600)


def test_concurrent_sweepers_remove_each_file_once(client):
    from concurrent.futures import ThreadPoolExecutor

    from drops.sweep import media_sweep

    for _ in range(5):
        create_text(client)
    later = time.time() + 3600
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: media_sweep(now=later, grace=300), range(4)))
    removed = [name for report in reports for name, _ in report.removed]
    assert len(removed) == len(set(removed))
    assert not list((settings.MEDIA_ROOT / "qr").glob("*"))
    assert any(r.locked_out for r in reports) or len(removed) == 5


def test_the_loop_stops_cleanly_on_sigterm():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sweep_media", "--loop", "--interval", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert "Sweeping every 5s" in first
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Stopped." in out
    assert nb_store.client().exists(drop_keys.SWEEP_LOCK()) == 0


def test_it_leaves_files_that_are_not_a_drops_alone():
    folder = settings.MEDIA_ROOT / "qr"
    folder.mkdir(parents=True, exist_ok=True)
    stranger = folder / "README.txt"
    stranger.write_bytes(b"keep me")
    past = time.time() - 10 * settings.DROP_SWEEP_GRACE_SECONDS
    os.utime(stranger, (past, past))
    assert "Nothing to do." in sweep()
    assert stranger.exists()
