"""Throwaway servers for the suite, with no Django import (tests/settings.py starts
the session's Redis before Django reads its settings).

``RedisServer`` runs ``redis-server`` on a free loopback port, keeping nothing on
disk (``--save "" --appendonly no``); the process dies with the Python that
started it, even when that Python is killed (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class RedisServerMissing(RuntimeError):
    """No ``redis-server`` binary on PATH."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class RedisServer:
    """A throwaway redis-server on its own port (the session's store, and outage
    tests' own); ``args`` adds options (``["--replicaof", "127.0.0.1", "6380"]``,
    or ``["--sentinel"]`` after a config file)."""

    def __init__(
        self, port: int | None = None, args: list[str] | None = None, die_with_parent=False
    ) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        # Only before any thread runs (preexec_fn is not thread-safe): the session's.
        self.die_with_parent = die_with_parent

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerMissing("redis-server is not installed")
        self.proc = subprocess.Popen(
            [binary, *self.args, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"]
            # A fresh folder for a replica's sync dump: a restart starts empty.
            + ["--dir", tempfile.mkdtemp(prefix="nb-redis-")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop_at_exit(self) -> RedisServer:
        atexit.register(self.stop)
        return self
