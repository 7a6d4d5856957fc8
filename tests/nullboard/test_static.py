"""Static files: collectstatic works and whitenoise serves hashed, compressed files."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_collectstatic_builds_a_manifest(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nullboard.settings",
        "SECRET_KEY": "collectstatic-" + "s" * 40,
        "DEBUG": "false",
    }
    code = (
        "import django, sys; from django.conf import settings;"
        f"settings.STATIC_ROOT = {str(tmp_path)!r};"
        "django.setup();"
        "from django.core.management import call_command;"
        "call_command('collectstatic', '--noinput', verbosity=0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("css/site.*.css"))
    assert list(tmp_path.glob("js/pow-worker.*.js.gz"))


def test_the_dev_server_logs_carry_no_client_address():
    import logging

    from nullboard.logging import StripClientAddress

    record = logging.LogRecord(
        "django.channels.server",
        logging.INFO,
        __file__,
        1,
        "HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]",
        {"method": "GET", "path": "/", "status": 200, "time_taken": 0.1, "client": "10.1.2.3:5"},
        None,
    )
    StripClientAddress().filter(record)
    assert "10.1.2.3" not in record.getMessage()
