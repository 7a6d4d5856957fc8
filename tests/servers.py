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


def cluster_port() -> int:
    """A free port for a cluster node: its bus listens on port + 10000, which must be a
    port too (an ephemeral port above 55535 would leave the node unable to start)."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


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


class RedisCluster:
    """A throwaway Redis Cluster on loopback: ``masters`` redis-servers with
    ``--cluster-enabled yes``, each with ``replicas`` replicas, made one cluster by
    ``redis-cli --cluster create`` (three masters at least), or a single node
    holding every slot (``masters=1``: the suite's cluster mode, where Redis itself
    refuses any script or MULTI that crosses slots).

    ``node_timeout`` (ms) is how long a master may be silent before its replica
    is promoted.
    """

    def __init__(
        self, masters: int = 3, replicas: int = 1, node_timeout: int = 1000, die_with_parent=False
    ) -> None:
        if masters != 1 and masters < 3:
            raise ValueError("redis-cli --cluster create needs three masters (or use one)")
        self.masters = masters
        self.replicas = replicas if masters > 1 else 0
        self.folder = tempfile.mkdtemp(prefix="nb-cluster-")
        count = masters * (1 + self.replicas)
        self.nodes = [
            RedisServer(
                port=cluster_port(),
                args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"{self.folder}/nodes-{index}.conf",
                    "--cluster-node-timeout",
                    str(node_timeout),
                    # A master waits 5 s (Redis 7's default) for more replicas before it
                    # sends its data: a replica never synced is never promoted.
                    "--repl-diskless-sync-delay",
                    "0",
                ],
                die_with_parent=die_with_parent,
            )
            for index in range(count)
        ]

    @property
    def addresses(self) -> str:
        """``REDIS_CLUSTER_NODES``: every node as host:port, comma-separated."""
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def cli(self, port: int, *args: str, timeout: float = 30) -> str:
        binary = shutil.which("redis-cli")
        if binary is None:
            raise RedisServerMissing("redis-cli is not installed")
        done = subprocess.run(
            [binary, "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def start(self) -> RedisCluster:
        for node in self.nodes:
            node.start()
        first = self.nodes[0].port
        if self.masters == 1:
            self.cli(first, "cluster", "addslotsrange", "0", "16383")
        else:
            self.cli(
                first,
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            )
        self.wait_ok()
        return self

    def wait_ok(self, timeout: float = 30) -> None:
        """Until every running node says the cluster is ok and knows every node."""
        deadline = time.monotonic() + timeout
        running = [node for node in self.nodes if node.proc is not None]
        while time.monotonic() < deadline:
            try:
                ready = all(
                    "cluster_state:ok" in self.cli(node.port, "cluster", "info") for node in running
                )
            except subprocess.CalledProcessError:
                ready = False
            if ready:
                return
            time.sleep(0.05)
        raise RuntimeError("the Redis Cluster did not become ok")

    def master_ports(self) -> list[int]:
        """The ports of the running masters, as the first live node sees them."""
        for node in self.nodes:
            if node.proc is None:
                continue
            lines = self.cli(node.port, "cluster", "nodes").splitlines()
            return sorted(
                int(line.split()[1].split("@")[0].rsplit(":", 1)[1])
                for line in lines
                if "master" in line.split()[2] and "fail" not in line.split()[2]
            )
        return []

    def node(self, port: int) -> RedisServer:
        return next(node for node in self.nodes if node.port == port)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop_at_exit(self) -> RedisCluster:
        atexit.register(self.stop)
        return self
