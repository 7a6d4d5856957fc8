"""Security headers: nonce CSP, framing, referrer, permissions, HSTS under HTTPS."""

import re


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = [p.strip().split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def test_the_csp_allows_only_what_is_used(client):
    directives = csp_directives(client.get("/"))
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    for name in ("style-src", "img-src", "connect-src", "worker-src"):
        assert directives[name] == ["'self'"]
    policy = client.get("/")["Content-Security-Policy"]
    assert "unsafe" not in policy
    assert "http:" not in policy and "https:" not in policy and "*" not in policy


def test_the_script_nonce_changes_per_response_and_matches_the_page(client):
    first = client.get("/")
    second = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", first["Content-Security-Policy"])
    other = re.search(r"'nonce-([^']+)'", second["Content-Security-Policy"])
    if nonce:  # only pages that load scripts carry a nonce
        assert nonce.group(1) != other.group(1)
        assert f'nonce="{nonce.group(1)}"' in first.content.decode()


def test_the_other_headers_are_set(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "microphone=(self)" in response["Permissions-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_api_answers_are_never_cached(client):
    assert client.post("/api/session")["Cache-Control"] == "no-store"


def test_no_hsts_or_redirect_over_plain_http(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def test_https_redirects_and_sends_hsts_for_a_year_or_more(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 63072000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    assert client.get("/").status_code == 301
    response = client.get("/", secure=True)
    hsts = response["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "includeSubDomains" in hsts and "preload" in hsts


def test_cookies_are_httponly_and_samesite(client):
    response = client.post("/api/session")
    for cookie in response.cookies.values():
        if cookie.key != "csrftoken":
            assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"


def test_an_api_answer_carries_the_pages_policy_without_a_nonce(client):
    page = client.get("/")["Content-Security-Policy"]
    api = client.get("/api/posts?topic=news")["Content-Security-Policy"]
    assert "'nonce-" in page and "'nonce-" not in api
    assert api == re.sub(r" 'nonce-[^']+'", "", page)


def test_an_api_answer_says_its_language_and_varies_on_it(client):
    response = client.get("/api/posts?topic=news", HTTP_ACCEPT_LANGUAGE="fa")
    assert response["Content-Language"] == "fa"
    assert "Accept-Language" in response["Vary"]
    missing = client.get("/api/posts/0123456789abcdef", HTTP_ACCEPT_LANGUAGE="fa").json()
    assert missing["error"] == "not_found" and not re.search(r"[A-Za-z]{4}", missing["detail"])
