"""Settings come from the environment through helpers that refuse bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from nullboard.env import envaddresses, envbool, envint, envlist, envstr

ROOT = Path(__file__).resolve().parents[2]


def test_envbool_reads_true_and_false(monkeypatch):
    monkeypatch.setenv("NB_FLAG", "Yes")
    assert envbool("NB_FLAG", False) is True
    monkeypatch.setenv("NB_FLAG", "off")
    assert envbool("NB_FLAG", True) is False


def test_envbool_refuses_maybe(monkeypatch):
    monkeypatch.setenv("NB_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="NB_FLAG='maybe' is not a boolean"):
        envbool("NB_FLAG", False)


def test_unset_or_blank_gives_the_default(monkeypatch):
    monkeypatch.delenv("NB_UNSET", raising=False)
    monkeypatch.setenv("NB_BLANK", "  ")
    assert envint("NB_UNSET", 7) == 7
    assert envbool("NB_BLANK", True) is True
    assert envstr("NB_BLANK", "x") == "x"
    assert envlist("NB_UNSET", ["a"]) == ["a"]


def test_envint_refuses_words_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("NB_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        envint("NB_NUM", 1)
    monkeypatch.setenv("NB_NUM", "-3")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        envint("NB_NUM", 1, minimum=0)


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("NB_LIST", "a.example, b.example,,")
    assert envlist("NB_LIST", []) == ["a.example", "b.example"]


def test_envaddresses_reads_host_port_pairs(monkeypatch):
    monkeypatch.setenv("NB_ADDRESSES", "sentinel-1:26379, [::1]:26380,")
    assert envaddresses("NB_ADDRESSES") == [("sentinel-1", 26379), ("::1", 26380)]


@pytest.mark.parametrize("bad", ["sentinel", ":26379", "sentinel:port", "sentinel:0", "s:70000"])
def test_envaddresses_refuses_what_is_not_host_and_port(monkeypatch, bad):
    monkeypatch.setenv("NB_ADDRESSES", bad)
    with pytest.raises(ImproperlyConfigured, match="NB_ADDRESSES"):
        envaddresses("NB_ADDRESSES")


def test_the_sentinel_master_url_keeps_the_names_case_and_decodes_the_password():
    from nullboard.redis_utils import sentinel_master

    assert sentinel_master("redis://us%40r:p%40ss%3Aw@NbMaster/3") == {
        "service_name": "NbMaster",
        "username": "us@r",
        "password": "p@ss:w",
    }
    assert sentinel_master("redis://:secret@nbmaster/0")["password"] == "secret"
    assert sentinel_master("redis://nbmaster/0") == {
        "service_name": "nbmaster",
        "username": None,
        "password": None,
    }


def test_sentinels_without_the_masters_name_stop_start_up():
    result = manage("check", DEBUG="true", REDIS_SENTINELS="127.0.0.1:26379")
    assert result.returncode != 0
    assert "REDIS_SENTINELS needs REDIS_URL=redis://MASTER-NAME/DB" in result.stderr


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py with the project settings and only the given variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NB_"))}
    for name in ("SECRET_KEY", "DEBUG", "HTTPS", "ALLOWED_HOSTS", "REDIS_URL", "POW_DIFFICULTY"):
        clean.pop(name, None)
    for name in ("REDIS_CLUSTER_NODES", "CHANNEL_REDIS_URLS"):  # a cluster-mode run's
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="nullboard.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_a_bad_boolean_stops_start_up():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings(redis_server):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        HTTPS="true",
        SECRET_KEY="a-real-production-secret-" + "q7Z!" * 12,
        ALLOWED_HOSTS="nullboard.example",
        REDIS_URL=redis_server.url,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_https_false_serves_plain_http_without_secure_cookies():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS)"
    )
    result = manage("shell", "-c", code, DEBUG="false", HTTPS="false", SECRET_KEY="k" * 50)
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False", "0"], result.stderr


def test_https_defaults_to_on_when_debug_is_off():
    code = "from django.conf import settings as s; print(s.HTTPS, s.SECURE_SSL_REDIRECT)"
    result = manage("shell", "-c", code, DEBUG="false", SECRET_KEY="k" * 50)
    assert result.stdout.splitlines()[-1].split() == ["True", "True"], result.stderr


def test_every_documented_variable_is_in_env_example():
    documented = (ROOT / ".env.example").read_text()
    design = (
        "SECRET_KEY DEBUG ALLOWED_HOSTS REDIS_URL SESSION_TTL_SECONDS POST_TTL_SECONDS "
        "COMMENT_TTL_SECONDS RATE_LIMIT_WINDOW_SECONDS RATE_LIMIT_MAX_REQUESTS POW_DIFFICULTY "
        "MAX_BLOB_BYTES MAX_COMMENT_BLOB_BYTES ENABLE_RANDOM_DELAYS DROP_TTL_SECONDS "
        "DROP_MAX_VIEWS DROP_MAX_TTL_SECONDS VOICE_MAX_SECONDS VOICE_MAX_BYTES MEDIA_ROOT "
        "MEDIA_MAX_BYTES POW_TTL_SECONDS FLAG_HIDE_THRESHOLD PAD_RESPONSES RANDOM_DELAY_MAX_MS "
        "HTTPS TRUSTED_PROXY_COUNT"
    ).split()
    missing = [name for name in design if f"{name}=" not in documented]
    assert missing == []


def test_the_defaults_match_the_design(settings):
    from nullboard import settings as project

    assert project.SESSION_TTL_SECONDS == 21600
    assert project.POST_TTL_SECONDS == 86400
    assert project.COMMENT_TTL_SECONDS == 43200
    assert project.RATE_LIMIT_WINDOW_SECONDS == 60
    assert project.RATE_LIMIT_MAX_REQUESTS == 50
    assert project.MAX_BLOB_BYTES == 8192
    assert project.MAX_COMMENT_BLOB_BYTES == 4096
    assert project.DROP_TTL_SECONDS == 30
    assert project.DROP_MAX_VIEWS == 3
    assert project.POW_TTL_SECONDS == 120
    assert project.FLAG_HIDE_THRESHOLD == 3
    assert project.RANDOM_DELAY_MAX_MS == 250
    # No SQL: either untouched, or Django's own dummy entry once something asked.
    engine = project.DATABASES.get("default", {}).get("ENGINE", "django.db.backends.dummy")
    assert engine == "django.db.backends.dummy"


def test_envint_list_checks_every_item(monkeypatch):
    from nullboard.env import envint_list

    monkeypatch.setenv("NB_INTS", "120, 600,")
    assert envint_list("NB_INTS", [1]) == [120, 600]
    monkeypatch.setenv("NB_INTS", "120,lots")
    with pytest.raises(ImproperlyConfigured, match="'lots' is not a whole number"):
        envint_list("NB_INTS", [1])
    monkeypatch.setenv("NB_INTS", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        envint_list("NB_INTS", [1], minimum=1)
