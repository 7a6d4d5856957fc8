"""The Mozilla HTTP Observatory's scoring rules, applied to our real responses.

Each test of the Observatory starts from 100 and adds or subtracts a modifier;
A+ is 100 or more with no failing test. Only the rules that apply to a
same-origin site with no CORS are written out here.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest


def score_csp(policy: str | None) -> tuple[str, int]:
    if not policy:
        return "csp-not-implemented", -25
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    script = directives.get("script-src", directives.get("default-src", []))
    style = directives.get("style-src", directives.get("default-src", []))
    if "'unsafe-inline'" in script or any(s in ("http:", "https:", "*") for s in script):
        return "csp-implemented-with-unsafe-inline", -20
    if "'unsafe-eval'" in script:
        return "csp-implemented-with-unsafe-eval", -10
    if "'unsafe-inline'" in style:
        return "csp-implemented-with-unsafe-inline-in-style-src-only", 0
    if directives.get("default-src") == ["'none'"]:
        return "csp-implemented-with-no-unsafe-default-src-none", 10
    return "csp-implemented-with-no-unsafe", 5


def score_cookies(set_cookies: list[str]) -> tuple[str, int]:
    if not set_cookies:
        return "cookies-not-found", 0
    jar = SimpleCookie()
    for header in set_cookies:
        jar.load(header)
    for morsel in jar.values():
        if not morsel["secure"]:
            return "cookies-without-secure-flag", -20
        if morsel.key != "csrftoken" and not morsel["httponly"]:
            return "cookies-session-without-httponly-flag", -30
        if not morsel["samesite"]:
            return "cookies-secure-with-httponly-sessions", 0
    return "cookies-secure-with-httponly-sessions-and-samesite", 5


def score_referrer(value: str | None) -> tuple[str, int]:
    private = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
    if value and value.split(",")[-1].strip() in private:
        return "referrer-policy-private", 5
    return "referrer-policy-not-implemented", 0


def score_hsts(value: str | None) -> tuple[str, int]:
    match = re.search(r"max-age=(\d+)", value or "")
    if not match:
        return "hsts-not-implemented", -20
    if int(match.group(1)) < 15768000:
        return "hsts-implemented-max-age-less-than-six-months", -10
    return "hsts-implemented-max-age-at-least-six-months", 0


def score_nosniff(value: str | None) -> tuple[str, int]:
    if (value or "").lower() == "nosniff":
        return "x-content-type-options-nosniff", 0
    return "x-content-type-options-not-implemented", -5


def score_framing(xfo: str | None, policy: str | None) -> tuple[str, int]:
    if policy and re.search(r"frame-ancestors\s+'none'", policy):
        return "x-frame-options-implemented-via-csp", 5
    if (xfo or "").upper() in ("DENY", "SAMEORIGIN"):
        return "x-frame-options-sameorigin-or-deny", 0
    return "x-frame-options-not-implemented", -20


def score_sri(html: str) -> tuple[str, int]:
    external = re.findall(r"<script[^>]+src=\"(https?:)?//", html)
    if external:
        return "sri-not-implemented-but-external-scripts-loaded-securely", -5
    return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0


def score_redirect(status: int, location: str | None) -> tuple[str, int]:
    if status in (301, 302, 307, 308) and (location or "").startswith("https://"):
        return "redirection-to-https", 0
    return "redirection-missing", -20


def observatory(http_response, https_response) -> tuple[int, list[tuple[str, int]]]:
    headers = https_response.headers
    set_cookies = [c.output(header="").strip() for c in https_response.cookies.values()]
    results = [
        score_csp(headers.get("Content-Security-Policy")),
        score_cookies(set_cookies),
        score_referrer(headers.get("Referrer-Policy")),
        score_hsts(headers.get("Strict-Transport-Security")),
        score_nosniff(headers.get("X-Content-Type-Options")),
        score_framing(headers.get("X-Frame-Options"), headers.get("Content-Security-Policy")),
        score_sri(https_response.content.decode()),
        score_redirect(http_response.status_code, http_response.headers.get("Location")),
    ]
    # Bonuses only count once the base tests pass (the Observatory's own rule).
    base = 100 + sum(m for _, m in results if m < 0)
    total = base + (sum(m for _, m in results if m > 0) if base >= 90 else 0)
    return total, results


def grade(score: int) -> str:
    for floor, letter in ((100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B")):
        if score >= floor:
            return letter
    return "F"


@pytest.fixture
def production_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 63072000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    return settings


@pytest.mark.parametrize("path", ["/", "/topic/news", "/drops/new", "/about"])
def test_every_page_scores_a_plus_with_every_bonus(client, production_https, path):
    http_response = client.get(path)
    https_response = client.get(path, secure=True)
    assert https_response.status_code == 200
    total, results = observatory(http_response, https_response)
    assert grade(total) == "A+", results
    assert all(m >= 0 for _, m in results), results
    bonuses = {name for name, m in results if m > 0}
    assert bonuses >= {
        "csp-implemented-with-no-unsafe-default-src-none",
        "referrer-policy-private",
        "x-frame-options-implemented-via-csp",
    }


def test_the_session_cookie_earns_the_cookie_bonus(client, production_https):
    client.get("/", secure=True)
    response = client.post("/api/session", secure=True)
    set_cookies = [c.output(header="").strip() for c in response.cookies.values()]
    assert score_cookies(set_cookies) == ("cookies-secure-with-httponly-sessions-and-samesite", 5)


def test_the_rules_catch_a_weak_policy():
    assert score_csp("default-src 'self'; script-src 'self' 'unsafe-inline'")[1] < 0
    assert score_hsts("max-age=300")[1] < 0
    assert score_cookies(["sid=1; Path=/"])[1] < 0
    assert score_redirect(200, None)[1] < 0
