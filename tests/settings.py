"""Test settings: each test process starts its own throwaway redis-server (one per
xdist worker, on a free port, killed at exit; CI requires it), else embedded.

With ``REDIS_URL`` given explicitly that Redis is used instead, and its db is
flushed before every test. Nothing else in the suite touches a Redis it did not
start. Environment defaults are set before the project settings are read, so a
plain ``pytest`` works on a fresh checkout.
"""

from __future__ import annotations

import os
import socket
import tempfile
from urllib.parse import urlsplit

from tests.servers import RedisCluster, RedisServer, RedisServerMissing

# Set to the test process (xdist worker) whose own server REDIS_URL names; the web
# servers it starts inherit both, xdist workers started by the controller do not match.
OWN_REDIS = "NB_TEST_OWN_REDIS"
_process = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _own_redis() -> str | None:
    """Start this test process's own throwaway redis-server (one per xdist worker),
    killed when the process ends; None (embedded store) when the binary is missing,
    which CI refuses."""
    try:
        server = RedisServer(die_with_parent=True).start()
    except RedisServerMissing:
        if os.environ.get("CI"):
            raise RuntimeError("CI needs redis-server on PATH to run the suite") from None
        return None
    server.stop_at_exit()
    os.environ[OWN_REDIS] = _process
    return server.url


if "NB_TEST_EMBEDDED" in os.environ:
    for _name in ("REDIS_URL", "REDIS_CLUSTER_NODES", "CHANNEL_REDIS_URLS"):
        os.environ.pop(_name, None)  # a process started from a cluster-mode run, too
elif "REDIS_SENTINELS" in os.environ:
    pass  # REDIS_URL names a master the sentinels know, not a host (tests/scale)
elif os.environ.get(OWN_REDIS) == _process:
    pass  # a web server started by a test: the test process's own Redis
elif os.environ.get("REDIS_URL") and OWN_REDIS not in os.environ:
    # An explicit REDIS_URL is used as given: its db is flushed before every test,
    # so xdist workers would flush each other's data.
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        raise RuntimeError(
            "REDIS_URL is flushed by every test: run it without -n (or leave "
            "REDIS_URL unset and each worker starts its own redis-server)."
        )
    if not _answers(os.environ["REDIS_URL"]):
        if os.environ.get("CI"):
            raise RuntimeError(
                f"CI needs the real Redis at {os.environ['REDIS_URL']}; none answers."
            )
        os.environ.pop("REDIS_URL")
elif os.environ.get("NB_TEST_CLUSTER"):
    # The suite on a one-node Redis Cluster (every slot on one server): Redis itself
    # refuses any script, MULTI or multi-key command that crosses slots.
    _cluster = RedisCluster(masters=1, die_with_parent=True).start().stop_at_exit()
    os.environ[OWN_REDIS] = _process
    os.environ.pop("REDIS_URL", None)
    os.environ["REDIS_CLUSTER_NODES"] = _cluster.addresses
    os.environ["CHANNEL_REDIS_URLS"] = _cluster.nodes[0].url
else:
    _url = _own_redis()
    if _url is None:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = _url

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "k" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("POW_DIFFICULTY", "1")
os.environ.setdefault("ENABLE_RANDOM_DELAYS", "false")
# Every test client shares 127.0.0.1; the cap's own tests set it low.
os.environ.setdefault("WS_MAX_CONNECTIONS_PER_CLIENT", "100000")
# Each test process (xdist worker) its own media folder, as its own Redis: a folder
# inherited from the xdist controller would be shared (and swept, purged) by both.
MEDIA_FOR = "NB_TEST_MEDIA_FOR"
if "MEDIA_ROOT" not in os.environ or os.environ.get(MEDIA_FOR, _process) != _process:
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="nb-media-")
    os.environ[MEDIA_FOR] = _process

from nullboard.settings import *  # noqa: E402, F403

# Hashed static names need collectstatic; tests serve the source files.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# A server started for a test may shorten the live hub's heartbeat interval.
if "NB_TEST_HEALTH_INTERVAL" in os.environ:
    LIVE_HEALTH_INTERVAL_SECONDS = float(os.environ["NB_TEST_HEALTH_INTERVAL"])
STATIC_ROOT = None
