"""What hiding one post costs one attacker, against a real daphne and Redis.

Before (the outside run): a flag needed no proof of work and counted sessions, so
one address hid a post with six requests (three sessions, three flags). Now each
flag needs a solved challenge at the served difficulty and counts once per client
network (IPv4 /24, IPv6 /48). This replays both request sequences in one run and
prints each beside the other (a ratio, so the machine's load cancels out):

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python tests/perf/bench_flags.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from tests.conftest import DaphneServer, HttpClient  # noqa: E402
from tests.pow import solve  # noqa: E402
from tests.reliability.conftest import blob  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "5"))


def visitor(web, address: str) -> HttpClient:
    client = HttpClient(web.url)
    client.opener.addheaders = [("X-Forwarded-For", address)]
    client.get("/")
    return client


def session(client: HttpClient) -> dict:
    status, _, body = client.post("/api/session")
    assert status == 200, body
    return json.loads(body)


def new_post(web) -> str:
    author = visitor(web, "192.0.2.1")
    data = session(author)
    work = {"pow_challenge": data["pow_challenge"]}
    work["pow_nonce"] = solve(data["pow_challenge"], data["pow_difficulty"])
    status, _, body = author.post("/api/posts", {"topic": "news", "blob": blob(), **work})
    assert status == 201, body
    return json.loads(body)["id"]


def requests_only(web, post_id: str, n: int) -> float:
    """The old attack's requests (a session and a flag, n times), no work solved:
    the reference, and what hiding cost before."""
    started = time.perf_counter()
    for i in range(n):
        client = visitor(web, f"198.51.100.{i + 10}")
        session(client)
        client.post("/api/flags", {"type": "post", "id": post_id, "reason": "spam"})
    return time.perf_counter() - started


def hide(web, post_id: str, networks: list[str]) -> tuple[float, float, int, bool]:
    """Flag from each network with a solved challenge; (seconds, of which solving,
    difficulty, hidden by the last flag)."""
    solving, started, hidden, difficulty = 0.0, time.perf_counter(), False, 0
    for address in networks:
        client = visitor(web, address)
        data = session(client)
        difficulty = data["pow_difficulty"]
        t = time.perf_counter()
        nonce = solve(data["pow_challenge"], difficulty)
        solving += time.perf_counter() - t
        body = {"type": "post", "id": post_id, "reason": "spam"}
        body |= {"pow_challenge": data["pow_challenge"], "pow_nonce": nonce}
        status, _, answer = client.post("/api/flags", body)
        assert status == 202, answer
        hidden = json.loads(answer)["hidden"]
    return time.perf_counter() - started, solving, difficulty, hidden


def main() -> None:
    from django.conf import settings

    env = {"TRUSTED_PROXY_COUNT": "1", "POW_DIFFICULTY": "4", "RATE_LIMIT_MAX_REQUESTS": "100000"}
    web = DaphneServer(env=env).start()
    try:
        threshold = settings.FLAG_HIDE_THRESHOLD
        before, after, solving, diff = [], [], [], 0
        for r in range(ROUNDS):
            post_id = new_post(web)
            before.append(requests_only(web, post_id, threshold))
            networks = [f"203.0.{113 - j}.{r + 1}" for j in range(threshold)]
            post_id = new_post(web)
            seconds, solved, diff, hidden = hide(web, post_id, networks)
            assert hidden, "the last flag should have hidden the post"
            after.append(seconds)
            solving.append(solved)
        # One network with many sessions never gets there at all.
        post_id = new_post(web)
        same_net = [f"198.51.100.{i}" for i in range(100, 110)]
        _, _, _, hidden = hide(web, post_id, same_net)
    finally:
        web.stop()
    b, a, s = (statistics.median(x) for x in (before, after, solving))
    print(f"threshold {threshold} networks, difficulty {diff}, {ROUNDS} rounds (medians)")
    print(f"before: {2 * threshold} requests from 1 address, no work: {b:.3f} s")
    print(f"after:  {threshold} networks x (session + solve + flag): {a:.3f} s ({a / b:.1f}x)")
    print(f"        of which solving {s:.3f} s ({s / threshold * 1000:.0f} ms per flag)")
    print(f"10 sessions from one /24 hid it: {hidden}")


if __name__ == "__main__":
    main()
