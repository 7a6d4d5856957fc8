"""The deploy checks Django keys on its own middleware's path hold for the
nullboard.middleware classes that run it."""

from __future__ import annotations

from django.test import override_settings

from nullboard.checks import check_wrapped_middleware

SECURE = {
    "SECURE_HSTS_SECONDS": 63072000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_SSL_REDIRECT": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_SECURE": True,
}


def ids(**changes) -> list[str]:
    with override_settings(**{**SECURE, **changes}):
        return [message.id for message in check_wrapped_middleware(None)]


def test_production_settings_pass():
    assert ids() == []


def test_plain_http_settings_warn_as_django_would():
    plain = {**dict.fromkeys(SECURE, False), "SECURE_HSTS_SECONDS": 0}
    assert ids(**plain) == [
        "nullboard.W104",
        "nullboard.W108",
        "nullboard.W111",
        "nullboard.W112",
    ]


def test_it_warns_on_framing_and_a_missing_middleware():
    from django.conf import settings

    without_csrf = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    assert ids(X_FRAME_OPTIONS="SAMEORIGIN") == ["nullboard.W110"]
    assert ids(MIDDLEWARE=without_csrf) == ["nullboard.W103"]
