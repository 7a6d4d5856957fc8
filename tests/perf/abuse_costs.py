"""The one-request attacks of issue 16, measured against a web process started like
the Procfile's line (or the old daphne line, for the "before" column).

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python tests/perf/abuse_costs.py [daphne]

Loopback only, each attack bounded: an upload of UPLOAD_MB (200; daphne buffers it
whole, so give it less with UPLOAD_MB=50), 50 slow-header connections held for
15 s, 1,000 cookie-less page views. FLUSHDBs the db of REDIS_URL before and after.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from nullboard import redis_utils  # noqa: E402
from tests.conftest import DaphneServer as WebServer  # noqa: E402
from tests.conftest import HttpClient, free_port, wait_for_http  # noqa: E402
from tests.nullboard.test_server_limits import memory, multipart_body, post_streamed  # noqa: E402

DAPHNE = len(sys.argv) > 1 and sys.argv[1] == "daphne"
UPLOAD = int(os.environ.get("UPLOAD_MB", "200")) * 1024 * 1024
SLOW = 50


class DaphneLine(WebServer):
    """The Procfile's web line before issue 16."""

    def start(self) -> DaphneLine:
        import subprocess

        argv = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(self.port)]
        argv += ["--verbosity", "0", "--access-log", "/dev/null", "nullboard.asgi:application"]
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.output)
        wait_for_http(self.url + "/static/css/site.css", timeout=60)
        return self


def main() -> None:
    conn = redis_utils.client()
    conn.flushdb()
    server = (DaphneLine if DAPHNE else WebServer)(port=free_port()).start()
    try:
        client = HttpClient(server.url)
        for _ in range(3):
            client.get("/")
            client.post("/api/session")
        conn.flushdb()
        before = memory(server.proc.pid)
        started = time.monotonic()
        status, _, sent, _ = post_streamed(
            server.url, "/api/drops", multipart_body(UPLOAD), length=UPLOAD
        )
        seconds = time.monotonic() - started
        after = memory(server.proc.pid)
        time.sleep(1)
        settled = memory(server.proc.pid)
        print(f"upload {UPLOAD >> 20} MB: status {status}, bytes sent before the answer {sent:,}")
        print(
            f"  peak (VmHWM) {before['VmHWM'] >> 20} -> {after['VmHWM'] >> 20} MB "
            f"(+{(after['VmHWM'] - before['VmHWM']) / 2**20:.1f}), "
            f"RSS {before['VmRSS'] >> 20} -> {settled['VmRSS'] >> 20} MB, {seconds:.1f} s"
        )

        slow = []
        for _ in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Slow: ".encode())
            slow.append(sock)
        opened = time.monotonic()
        dropped_at = []
        for _ in range(15):
            time.sleep(1)
            for sock in slow:
                try:
                    sock.send(b"a")
                except OSError:
                    pass
            alive = 0
            for sock in slow:
                sock.settimeout(0.01)
                try:
                    alive += sock.recv(1, socket.MSG_PEEK) != b""
                except (TimeoutError, BlockingIOError):
                    alive += 1
                except OSError:
                    pass
            dropped_at.append((round(time.monotonic() - opened, 1), SLOW - alive))
        for sock in slow:
            sock.close()
        first = next((s for s, d in dropped_at if d == SLOW), None)
        print(
            f"slow headers: {SLOW} connections trickling a byte a second, all dropped "
            f"{f'after {first} s' if first else 'never'} ({time.monotonic() - opened:.0f} s "
            f"watched; dropped by then: {dropped_at})"
        )

        conn.flushdb()
        used = conn.info("memory")["used_memory"]
        for _ in range(1000):
            HttpClient(server.url).get("/")
        print(
            f"1,000 cookie-less GET /: {conn.dbsize()} keys, "
            f"+{(conn.info('memory')['used_memory'] - used) / 1024:.0f} KiB of Redis"
        )
    finally:
        server.stop()
        conn.flushdb()


if __name__ == "__main__":
    main()
