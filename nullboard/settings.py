"""Settings, read from environment variables only (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from nullboard.env import envaddresses, envbool, envint, envint_list, envlist, envstr
from nullboard.redis_utils import NAMESPACE

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
HTTPS = envbool("HTTPS", not DEBUG)

SECRET_KEY = envstr("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "dev-only-insecure-key-" + "x" * 40  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "nullboard",
    "antispam",
    "boards",
    "drops",
    "moderation",
]

# What runs, in order. Django's, django-csp's and WhiteNoise's middleware appear as
# nullboard.middleware classes that call their hooks inline (MiddlewareMixin would
# hop to a worker thread for each under ASGI); nullboard.checks repeats the deploy
# checks Django keys on its own middleware's path, so those are silenced below.
MIDDLEWARE = [
    "nullboard.metrics.RequestMetricsMiddleware",  # outermost: times what clients wait
    "antispam.middleware.TrafficShapingMiddleware",
    "nullboard.middleware.ApiErrorMiddleware",
    "nullboard.middleware.SecurityMiddleware",
    "nullboard.middleware.StaticFilesMiddleware",  # WhiteNoise, for STATIC_URL only
    "nullboard.middleware.SecurityHeadersMiddleware",
    "nullboard.middleware.CSPMiddleware",
    "nullboard.middleware.SessionMiddleware",
    "nullboard.middleware.IdentityCookieMiddleware",  # page views store no session
    # Accept-Language, then the language cookie set_language writes (no URL prefix,
    # no session): after sessions, before CommonMiddleware, as Django asks.
    "nullboard.middleware.LocaleMiddleware",
    "nullboard.middleware.CommonMiddleware",
    "nullboard.middleware.SameOriginFormMiddleware",  # before CSRF: no-JS forms
    "nullboard.middleware.CsrfViewMiddleware",
    "nullboard.middleware.XFrameOptionsMiddleware",
]
# "X is not in MIDDLEWARE": it is, as its nullboard.middleware class (nullboard.W101-W103).
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "nullboard.urls"
ASGI_APPLICATION = "nullboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "nullboard.context_processors.site",
                "nullboard.context_processors.client_config",
            ],
        },
    },
]

# No SQL database: everything lives in Redis with a TTL.
DATABASES: dict[str, dict[str, Any]] = {}

# --- Redis -----------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL")
REDIS_KEY_PREFIX = NAMESPACE  # defined once, in nullboard.redis_utils
# Failover through Sentinel: REDIS_SENTINELS lists the sentinels (host:port, ...)
# and REDIS_URL names the monitored master instead of a host, with the password
# and db as usual: redis://:password@nullboard/0 (docs/scaling.md).
REDIS_SENTINELS = envaddresses("REDIS_SENTINELS")
REDIS_SENTINEL_KWARGS = {"socket_connect_timeout": 2, "socket_timeout": 2}  # to sentinels
if REDIS_SENTINELS and REDIS_URL is None:
    raise ImproperlyConfigured("REDIS_SENTINELS needs REDIS_URL=redis://MASTER-NAME/DB.")
# Past one machine: REDIS_CLUSTER_NODES lists a Redis Cluster's seed nodes (host:port,
# ...) and every data key, session, rate-limit counter and challenge lives there
# (nullboard.cluster; docs/scaling.md). REDIS_URL keeps meaning one server.
REDIS_CLUSTER_NODES = envaddresses("REDIS_CLUSTER_NODES")
REDIS_CLUSTER_PASSWORD = envstr("REDIS_CLUSTER_PASSWORD")
if REDIS_CLUSTER_NODES and (REDIS_URL or REDIS_SENTINELS):
    raise ImproperlyConfigured(
        "REDIS_CLUSTER_NODES replaces REDIS_URL and REDIS_SENTINELS: set one store."
    )
if REDIS_CLUSTER_NODES and not envstr("CHANNEL_REDIS_URLS"):
    raise ImproperlyConfigured(
        "REDIS_CLUSTER_NODES needs CHANNEL_REDIS_URLS: live events go through plain "
        "Redis servers (one or more), not the cluster."
    )


def _db_of(url: str | None) -> str:
    return urlsplit(url or "").path.strip("/") or "0"


REDIS_DB = _db_of(REDIS_URL)

# A blocking pool: a burst past the pool's size waits up to 5 s for a connection
# instead of failing (redis-py's default pool raises at 100, which became a 503).
# Sentinel's pool finds the master before each new connection and cannot block.
REDIS_POOL_SIZE = envint("REDIS_POOL_SIZE", 200, minimum=1)
_redis_options: dict[str, Any] = {
    "SOCKET_CONNECT_TIMEOUT": 2,
    "SOCKET_TIMEOUT": 5,
    "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
    "CONNECTION_POOL_KWARGS": {
        "health_check_interval": 30,
        "retry_on_timeout": False,
        "max_connections": REDIS_POOL_SIZE,
        "timeout": 5,
    },
}
if REDIS_URL is None and not REDIS_CLUSTER_NODES:
    from nullboard.redis_utils import embedded_connection_kwargs

    _redis_options["CONNECTION_POOL_KWARGS"] = {
        **embedded_connection_kwargs(),
        "max_connections": REDIS_POOL_SIZE,
        "timeout": 5,
    }
elif REDIS_CLUSTER_NODES:
    _redis_options = {"CLIENT_CLASS": "nullboard.cluster.ClusterClient"}
elif REDIS_SENTINELS:
    # django-redis's SentinelClient would send reads to replicas; Nullboard reads
    # its own writes (a session, a post), so every command goes to the master.
    del _redis_options["CONNECTION_POOL_KWARGS"]["timeout"]
    _redis_options |= {
        "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        "CONNECTION_POOL_CLASS": "redis.sentinel.SentinelConnectionPool",
        "SENTINELS": REDIS_SENTINELS,
        "SENTINEL_KWARGS": REDIS_SENTINEL_KWARGS,
    }

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        # The cluster client finds its nodes in REDIS_CLUSTER_NODES, not here.
        "LOCATION": REDIS_URL
        or ("redis://cluster" if REDIS_CLUSTER_NODES else "redis://embedded:6379/0"),
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": _redis_options,
    }
}

# Live events. Nullboard's data stays in REDIS_URL (one Redis: Lua scripts touch
# several keys at once); the channel layer may be sharded over several servers,
# consistently hashed by group (docs/scaling.md).
CHANNEL_REDIS_URLS = envlist("CHANNEL_REDIS_URLS", [REDIS_URL] if REDIS_URL else [])
if REDIS_SENTINELS and envstr("CHANNEL_REDIS_URLS") is None:
    # The layer follows the data's master through the same sentinels.
    from nullboard.redis_utils import sentinel_master

    _master = sentinel_master(REDIS_URL)  # type: ignore[arg-type]
    CHANNEL_REDIS_HOSTS: list[str] | list[dict[str, Any]] = [
        {
            "master_name": _master["service_name"],
            "sentinels": REDIS_SENTINELS,
            "sentinel_kwargs": REDIS_SENTINEL_KWARGS,
            "db": int(REDIS_DB),
            "password": _master["password"],
            "username": _master["username"],
            "socket_connect_timeout": 2,
        }
    ]
    _channel_db = REDIS_DB
else:
    CHANNEL_REDIS_HOSTS = CHANNEL_REDIS_URLS
    _channel_db = _db_of(CHANNEL_REDIS_URLS[0] if CHANNEL_REDIS_URLS else None)
# "pubsub" (RedisPubSubChannelLayer) or "core" (RedisChannelLayer), both measured in
# the fan-out bench (docs/scaling.md): at 500 sockets p99 232 against 236 ms before
# the per-process hub (nullboard.live), 45 against 41 ms with it. As fast as each
# other, they differ in what they keep: pub/sub is one PUBLISH per group per event
# and stores nothing, where the core layer writes a sorted-set entry per member
# channel, drops events past its capacity and keeps a dead process's memberships
# for group_expiry. Pub/sub is the default.
CHANNEL_LAYER = envstr("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in ("pubsub", "core"):
    raise ImproperlyConfigured("CHANNEL_LAYER must be 'pubsub' or 'core'.")

if not CHANNEL_REDIS_URLS:
    CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
elif CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels ignore the db number, so the prefix names the db:
            # sites (or test runs) on other dbs of one server never hear each other.
            # Group membership lives in each process's memory for exactly as long
            # as the socket, so there is no group_expiry to tune, and each
            # process's queues are unbounded: a live event is never refused.
            "CONFIG": {
                "hosts": CHANNEL_REDIS_HOSTS,
                "prefix": f"{REDIS_KEY_PREFIX}:ch:{_channel_db}",
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": CHANNEL_REDIS_HOSTS,
                "prefix": f"{REDIS_KEY_PREFIX}:ch",
                # Memberships are refreshed only on join, so this is the longest
                # a socket keeps hearing its topics: a feed page left open all day.
                "group_expiry": 86400,
                # Events are small and consumed at once; a socket 200 events
                # behind is stuck, and dropping its events beats growing Redis.
                "capacity": 200,
                "expiry": 30,  # an undelivered event is stale after 30 s
            },
        }
    }

# --- Sessions and identity ----------------------------------------------------
SESSION_TTL_SECONDS = envint("SESSION_TTL_SECONDS", 21600, minimum=60)
SESSION_ENGINE = "nullboard.sessions"
SESSION_COOKIE_NAME = "nb_session"
SESSION_COOKIE_AGE = SESSION_TTL_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "nullboard.views.csrf_failure"

# --- Boards, drops, anti-spam -------------------------------------------------
POST_TTL_SECONDS = envint("POST_TTL_SECONDS", 86400, minimum=60)
COMMENT_TTL_SECONDS = envint("COMMENT_TTL_SECONDS", 43200, minimum=60)
MAX_BLOB_BYTES = envint("MAX_BLOB_BYTES", 8192, minimum=64)
MAX_COMMENT_BLOB_BYTES = envint("MAX_COMMENT_BLOB_BYTES", 4096, minimum=64)
FLAG_HIDE_THRESHOLD = envint("FLAG_HIDE_THRESHOLD", 3, minimum=1)
# Flags count client networks (IPv4 /24, IPv6 /48). A thread's comments raise the
# networks needed to hide its items by one per FLAG_COMMENTS_PER_EXTRA_FLAG, up to
# FLAG_HIDE_THRESHOLD_MAX; each network may flag FLAG_QUOTA_PER_NETWORK items per
# FLAG_QUOTA_WINDOW_SECONDS (see docs/security.md, "Flags").
FLAG_COMMENTS_PER_EXTRA_FLAG = envint("FLAG_COMMENTS_PER_EXTRA_FLAG", 10, minimum=1)
FLAG_HIDE_THRESHOLD_MAX = envint("FLAG_HIDE_THRESHOLD_MAX", 10, minimum=1)
FLAG_QUOTA_PER_NETWORK = envint("FLAG_QUOTA_PER_NETWORK", 30, minimum=1)
FLAG_QUOTA_WINDOW_SECONDS = envint("FLAG_QUOTA_WINDOW_SECONDS", 3600, minimum=1)
# The /rules page: a template path operators may point at their own text.
# /metrics answers only a request carrying this as a bearer token (404 when unset).
METRICS_TOKEN = envstr("METRICS_TOKEN", "") or ""

RULES_TEMPLATE = envstr("RULES_TEMPLATE", "moderation/rules.html")

# --- Boards -------------------------------------------------------------------
# Topics listed in the sidebar; any slug matching the contract may still be used.
BOARD_TOPICS = envlist(
    "BOARD_TOPICS",
    ["general", "news", "politics", "environment", "technology", "science", "culture", "sport"],
)
TRENDING_HALF_LIFE_SECONDS = envint("TRENDING_HALF_LIFE_SECONDS", 21600, minimum=60)
ROOM_TTL_SECONDS = envint("ROOM_TTL_SECONDS", 86400, minimum=60)  # idle rooms expire
# --- end Boards ---------------------------------------------------------------

RATE_LIMIT_WINDOW_SECONDS = envint("RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1)
RATE_LIMIT_MAX_REQUESTS = envint("RATE_LIMIT_MAX_REQUESTS", 50, minimum=1)
POW_DIFFICULTY = envint("POW_DIFFICULTY", 4, minimum=0)
POW_TTL_SECONDS = envint("POW_TTL_SECONDS", 120, minimum=5)
# Adaptive proof of work: +1 difficulty for each threshold of site-wide writes per
# window reached, capped at POW_MAX_DIFFICULTY (set it to POW_DIFFICULTY to fix the level).
POW_ADAPTIVE_THRESHOLDS = sorted(envint_list("POW_ADAPTIVE_THRESHOLDS", [120, 600], minimum=1))
POW_MAX_DIFFICULTY = envint("POW_MAX_DIFFICULTY", max(6, POW_DIFFICULTY), minimum=POW_DIFFICULTY)
POW_RATE_WINDOW_SECONDS = envint("POW_RATE_WINDOW_SECONDS", 60, minimum=10)
POW_RATE_BUCKET_SECONDS = 10
ENABLE_RANDOM_DELAYS = envbool("ENABLE_RANDOM_DELAYS", True)
RANDOM_DELAY_MAX_MS = envint("RANDOM_DELAY_MAX_MS", 250, minimum=0)
PAD_RESPONSES = envbool("PAD_RESPONSES", True)
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Open live-feed sockets one client (network) may hold at once; a browser tab uses one.
WS_MAX_CONNECTIONS_PER_CLIENT = envint("WS_MAX_CONNECTIONS_PER_CLIENT", 32, minimum=1)
# Seconds between the live hub's heartbeats (nullboard.live.hub); tests shorten it.
LIVE_HEALTH_INTERVAL_SECONDS = 2.0

DROP_TTL_SECONDS = envint("DROP_TTL_SECONDS", 30, minimum=5)
DROP_MAX_VIEWS = envint("DROP_MAX_VIEWS", 3, minimum=1)
DROP_MAX_TTL_SECONDS = envint("DROP_MAX_TTL_SECONDS", 604800, minimum=DROP_TTL_SECONDS)
VOICE_MAX_SECONDS = envint("VOICE_MAX_SECONDS", 60, minimum=1)
VOICE_MAX_BYTES = envint("VOICE_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
MEDIA_MAX_BYTES = envint("MEDIA_MAX_BYTES", 1024 * 1024 * 1024, minimum=0)

# --- Drops --------------------------------------------------------------------
# Files older than this with no live drop are orphans the sweeper may remove
# (younger ones may belong to a drop still being written).
DROP_SWEEP_GRACE_SECONDS = envint("DROP_SWEEP_GRACE_SECONDS", 300, minimum=0)
# One client network (IPv4 /24, IPv6 /48) may hold this many live drops, and this
# much of MEDIA_MAX_BYTES in live voice notes (default a twentieth), so one client
# can never fill the media folder for everyone.
DROP_NETWORK_MAX_DROPS = envint("DROP_NETWORK_MAX_DROPS", 100, minimum=1)
DROP_NETWORK_MEDIA_BYTES = envint(
    "DROP_NETWORK_MEDIA_BYTES", max(MEDIA_MAX_BYTES // 20, VOICE_MAX_BYTES), minimum=0
)

# --- Files --------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: drops stream their files through views
# Voice uploads are bounded by VOICE_MAX_BYTES; everything else is small JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(VOICE_MAX_BYTES + 64 * 1024, 256 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# The ASGI body guard (nullboard.limits): the largest body the site takes (a voice
# note plus its form), refused with 413 before it is read; and how long a body may
# take to arrive (408 after that).
REQUEST_MAX_BYTES = envint("REQUEST_MAX_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE, minimum=1024)
REQUEST_BODY_TIMEOUT_SECONDS = envint("REQUEST_BODY_TIMEOUT_SECONDS", 60, minimum=1)

# --- Security -----------------------------------------------------------------
SECURE_SSL_REDIRECT = HTTPS
# A platform's health check calls the process directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0  # two years
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
    }
}

# --- Logging: never a client address, never a capability token ---------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_address": {"()": "nullboard.logging.StripClientAddress"},
        "no_capabilities": {"()": "nullboard.logging.ScrubCapabilities"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["no_address", "no_capabilities"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO" if DEBUG else "WARNING"},
    "loggers": {
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Languages ------------------------------------------------------------------
# Chosen from Accept-Language or the language menu (Django's language cookie, kept a
# year, readable by no script); the menu shows each name in its own language
# (Django's LANG_INFO). The catalogs in locale/ are compiled and committed.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fa", "Persian"),
    ("ar", "Arabic"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
    ("zh-hans", "Simplified Chinese"),
    ("es", "Spanish"),
    ("tr", "Turkish"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 86400
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = HTTPS
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SITE_NAME = "Nullboard"
