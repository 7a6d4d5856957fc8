"""Test settings: real Redis when one answers (required under CI), else embedded.

Environment defaults are set before the project settings are read, so a plain
``pytest`` works on a fresh checkout.
"""

from __future__ import annotations

import os
import socket
import tempfile
from urllib.parse import urlsplit

# Each xdist worker gets its own Redis database so flushes do not collide.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_db = 15 - int(_worker.removeprefix("gw") or 0) % 8
_default_url = f"redis://127.0.0.1:6379/{_db}"


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


if "NB_TEST_EMBEDDED" in os.environ:
    os.environ.pop("REDIS_URL", None)
elif "REDIS_SENTINELS" in os.environ:
    pass  # REDIS_URL names a master the sentinels know, not a host (tests/scale)
else:
    os.environ.setdefault("REDIS_URL", _default_url)
    if not _answers(os.environ["REDIS_URL"]):
        if os.environ.get("CI"):
            raise RuntimeError(
                f"CI needs the real Redis at {os.environ['REDIS_URL']}; none answers."
            )
        os.environ.pop("REDIS_URL")

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "k" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("POW_DIFFICULTY", "1")
os.environ.setdefault("ENABLE_RANDOM_DELAYS", "false")
# Every test client shares 127.0.0.1; the cap's own tests set it low.
os.environ.setdefault("WS_MAX_CONNECTIONS_PER_CLIENT", "100000")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="nb-media-"))

from nullboard.settings import *  # noqa: E402, F403

# Hashed static names need collectstatic; tests serve the source files.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
