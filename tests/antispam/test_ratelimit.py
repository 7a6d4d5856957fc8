"""Rate limits: keyed by a daily HMAC of the client network, JSON 429 over the limit."""

from django.test import Client

from antispam import ratelimit
from antispam.ratelimit import client_address, client_key, network_of
from nullboard import redis_utils


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
    conn = redis_utils.client()
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


def test_wide_networks_are_ipv4_24_and_ipv6_48():
    assert network_of("192.0.2.10", wide=True) == network_of("192.0.2.200", wide=True)
    assert network_of("192.0.2.10", wide=True) != network_of("192.0.3.10", wide=True)
    assert network_of("2001:db8:1:2::1", wide=True) == network_of("2001:db8:1:ffff::1", wide=True)
    assert network_of("2001:db8:1::1", wide=True) != network_of("2001:db8:2::1", wide=True)
    assert network_of("::ffff:192.0.2.1", wide=True) == "192.0.2.0/24"


def test_the_key_is_an_hmac_under_a_daily_key_that_is_never_stored(rf):
    request = rf.post("/", REMOTE_ADDR="192.0.2.10")
    key = client_key(None, request)
    assert "192.0.2.10" not in key and len(key) == 32
    assert not redis_utils.client().keys("*secret*")
    assert ratelimit.daily_secret("20991231") != ratelimit.daily_secret()
    assert ratelimit.daily_secret("20991231") == ratelimit.daily_secret("20991231")


def _brute_force(dump: dict[bytes, bytes], candidates: list[bytes], network: str) -> list[str]:
    """Every address of ``network`` whose HMAC under any candidate key shows in the dump."""
    import hashlib
    import hmac
    import ipaddress

    text = b" ".join([*dump, *dump.values()])
    found = []
    for secret in candidates:
        for ip in ipaddress.ip_network(network):
            mac = hmac.new(secret, str(ip).encode(), hashlib.sha256).hexdigest()[:32]
            if mac.encode() in text:
                found.append(str(ip))
    return found


def test_a_redis_dump_alone_gives_back_no_address(client):
    """An attacker with every key and value in Redis, but not SECRET_KEY, tries each
    stored value as the HMAC key over a small address range and finds nothing."""
    from tests.conftest import pow_fields

    body = {"text": "a drop to guess at", **pow_fields(client)}
    drop = client.post("/api/drops", body, content_type="application/json").json()
    for host in (7, 77, 177):
        guesser = Client(REMOTE_ADDR=f"198.51.100.{host}")
        answer = guesser.post(
            f"/api/drops/{drop['id']}/open", {"key": "0" * 28}, content_type="application/json"
        )
        assert answer.status_code == 403
    conn = redis_utils.client()
    dump = {}
    for name in conn.keys("*"):
        kind = conn.type(name)
        if kind == b"string":
            dump[name] = conn.get(name) or b""
        elif kind == b"hash":
            dump[name] = b" ".join(k + b"=" + v for k, v in conn.hgetall(name).items())
        else:
            dump[name] = b""
    assert dump, "the requests stored nothing: the attack has nothing to work on"
    candidates = [value for value in dump.values() if value] + list(dump)
    assert _brute_force(dump, candidates, "198.51.100.0/24") == []
    # The same search with the real day key finds the addresses: the test can fail.
    assert "198.51.100.77" in _brute_force(dump, [ratelimit.daily_secret()], "198.51.100.0/24")
