"""Rate limits: keyed by a daily HMAC of the client network, JSON 429 over the limit."""

from django.test import Client

from antispam import ratelimit
from antispam.ratelimit import client_address, client_key, network_of
from nullboard import store


def test_over_the_limit_is_a_json_429_with_retry_after(client, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 3
    statuses = [client.post("/api/session").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.post("/api/session")
    assert response.json()["error"] == "rate_limited"
    assert response["Retry-After"] == str(settings.RATE_LIMIT_WINDOW_SECONDS)


def test_no_raw_address_reaches_redis(client, settings):
    settings.RATE_LIMIT_MAX_REQUESTS = 2
    for _ in range(3):
        client.post("/api/session", REMOTE_ADDR="203.0.113.77")
    conn = store.client()
    for name in conn.keys("*"):
        assert b"203.0.113" not in name
        if conn.type(name) == b"string":
            assert b"203.0.113" not in conn.get(name)


def test_forwarded_for_is_ignored_without_trusted_proxies(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(request) == "10.0.0.1"


def test_forwarded_for_is_read_behind_one_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    # The client may forge the left part; only the proxy's own entry counts.
    assert client_address(request) == "198.51.100.1"


def test_clients_behind_a_proxy_get_separate_buckets(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_MAX_REQUESTS = 1
    first, second = Client(), Client()
    assert first.post("/api/session", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert first.post("/api/session", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert second.post("/api/session", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_ipv6_is_grouped_by_its_64():
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:bbbb::9")
    assert network_of("2001:db8:1:2::1") != network_of("2001:db8:1:3::1")
    assert network_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert network_of("not an address") == "unknown"


def test_the_key_is_an_hmac_under_a_secret_that_rotates_daily(rf, monkeypatch):
    monkeypatch.setattr(ratelimit, "_cached", None)
    request = rf.post("/", REMOTE_ADDR="192.0.2.10")
    key = client_key(None, request)
    assert "192.0.2.10" not in key and len(key) == 32
    [secret] = store.client().keys("nb:rl:secret:*")
    assert 86400 < store.client().ttl(secret) <= 2 * 86400
    assert ratelimit.daily_secret("20991231") != ratelimit.daily_secret()
