"""Nullboard on a real Redis Cluster: six redis-server processes on loopback, three
masters with one replica each (``redis-cli --cluster create``).

The Procfile's web process is given only ``REDIS_CLUSTER_NODES`` (and a plain
redis-server for the channel layer), and every journey runs through it over HTTP
and WebSocket: sessions, posts, comments and live events, a room, drops opened
exactly three times (50 at once too), flags that hide. The data spreads over the
masters; ``stats`` and ``purge`` reach every one. Then a master dies under a load
of writes: they answer 503 until its replica is promoted, then succeed again, and
nothing is left half-written.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import redis

from boards import keys as board_keys
from drops import keys as drop_keys
from nullboard.redis_utils import SITE_PATTERN, LuaScript
from tests import servers
from tests.boards.helpers import blob
from tests.boards.wsclient import next_post, subscribe
from tests.conftest import IN_CI, ROOT, DaphneServer, HttpClient, RedisServer
from tests.pow import solve
from tests.privacy import SERVER_PORTS, addresses_in_store
from tests.reliability.conftest import assert_no_server_error

pytestmark = pytest.mark.redis

STATUSES_OF_A_WRITE = {201, 503}  # a failover may refuse a write, never break it
WRITE_INTERVAL = 0.05  # seconds between one load writer's writes
TOPICS = ("news", "general", "sport", "science", "culture", "technology", "politics")


class Cluster(servers.RedisCluster):
    """tests/servers.RedisCluster whose ports the log check knows (an outage logs
    "Error 111 connecting to 127.0.0.1:PORT"); a missing binary skips, or fails in CI."""

    def __init__(self) -> None:
        super().__init__(masters=3, replicas=1, node_timeout=1000)
        self.reader: redis.cluster.RedisCluster | None = None
        SERVER_PORTS.update(node.port for node in self.nodes)

    def start(self) -> Cluster:
        try:
            super().start()
            wait_until(self.replicas_synced, 20, "every replica syncs with its master")
        except servers.RedisServerMissing:
            self.stop()
            if IN_CI:
                pytest.fail("CI must run the cluster test; redis-server or redis-cli is missing")
            pytest.skip("redis-server or redis-cli is not installed")
        except BaseException:
            self.stop()
            raise
        return self

    def replicas_synced(self) -> bool:
        for node in self.nodes:
            if node.proc is None:
                continue
            found = self.cli(node.port, "info", "replication")
            if "role:slave" in found and "master_link_status:up" not in found:
                return False
        return True

    def client(self) -> redis.cluster.RedisCluster:
        """The test's own view of the data (a cluster client: it follows failovers)."""
        if self.reader is None:
            port = next(node.port for node in self.nodes if node.proc is not None)
            self.reader = redis.cluster.RedisCluster(host="127.0.0.1", port=port, socket_timeout=5)
        return self.reader

    def stop(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        super().stop()

    def master_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot."""
        return int(self.client().get_node_from_key(key).port)

    def keys_per_master(self, pattern: str = SITE_PATTERN) -> dict[int, list[bytes]]:
        """Each running master's own keys (SCAN on that server alone)."""
        return {
            port: list(redis.Redis(port=port).scan_iter(match=pattern, count=1000))
            for port in self.master_ports()
        }


def site_env(cluster: Cluster, channel: RedisServer, media: str) -> dict[str, str]:
    """A web process's (or a command's) settings: the data on the cluster, live
    events on a plain Redis, clients told apart by X-Forwarded-For."""
    return {
        "REDIS_CLUSTER_NODES": cluster.addresses,
        "CHANNEL_REDIS_URLS": channel.url,
        "TRUSTED_PROXY_COUNT": "1",
        "RATE_LIMIT_MAX_REQUESTS": "100000",
        "POW_DIFFICULTY": "1",
        "DROP_NETWORK_MAX_DROPS": "100000",
        "MEDIA_ROOT": media,
    }


@pytest.fixture(scope="module")
def channel():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster():
    started = Cluster().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def env(cluster, channel, tmp_path_factory):
    return site_env(cluster, channel, str(tmp_path_factory.mktemp("cluster-media")))


def cluster_web(env: dict[str, str]) -> DaphneServer:
    """The Procfile's web process on the cluster (the suite's own REDIS_URL,
    which it would inherit, removed: a site has one store)."""
    server = DaphneServer(env=env)
    server.env.pop("REDIS_URL", None)
    return server.start()


@pytest.fixture(scope="module")
def web(env):
    server = cluster_web(env)
    yield server
    printed = server.stop()
    assert_no_server_error(printed)
    assert "Traceback" not in printed


def visitor(web, address: str = "192.0.2.10") -> HttpClient:
    """A fresh visitor (own cookies and session) behind a proxy that names ``address``."""
    http = HttpClient(web.url)
    http.opener.addheaders = [("X-Forwarded-For", address)]
    status, _, _ = http.get("/")
    assert status == 200
    return http


def answer(reply: tuple) -> tuple[int, dict]:
    status, _, content = reply
    try:
        return status, json.loads(content)
    except ValueError:  # not JSON: an API path answered a page, which fails the test
        return status, {"not_json": content[:200]}


def write(http: HttpClient, path: str, body: dict) -> tuple[int, dict]:
    """Solve a fresh challenge and write: (status, JSON) of whichever step answered
    first with anything but success."""
    status, session = answer(http.post("/api/session"))
    if status != 200:
        return status, session
    work = {
        "pow_challenge": session["pow_challenge"],
        "pow_nonce": solve(session["pow_challenge"], session["pow_difficulty"]),
    }
    return answer(http.post(path, {**body, **work}))


def created(http: HttpClient, path: str, body: dict) -> dict:
    status, data = write(http, path, body)
    assert status == 201, data
    return data


def open_drop(http: HttpClient, drop_id: str, key: str) -> tuple[int, dict]:
    return answer(http.post(f"/api/drops/{drop_id}/open", {"key": key}))


def feed(http: HttpClient, query: str) -> Iterator[dict]:
    """Every item of a feed, page after page (each read prunes what it finds gone)."""
    cursor = ""
    while True:
        status, page = answer(http.get(f"/api/posts?{query}{cursor}"))
        assert status == 200, page
        yield from page["items"]
        if not page["next_cursor"]:
            return
        cursor = f"&cursor={page['next_cursor']}"


def feed_ids(http: HttpClient, query: str) -> list[str]:
    return [item["id"] for item in feed(http, query)]


# --- the journeys ---------------------------------------------------------------


def test_a_visitor_gets_a_session_and_the_pages(web, cluster):
    http = visitor(web)
    status, first = answer(http.post("/api/session"))
    assert status == 200, first
    assert any(cluster.keys_per_master().values())  # the session is on the cluster
    status, again = answer(http.post("/api/session"))
    assert status == 200
    assert again["sid"] == first["sid"] and again["username"] == first["username"]
    assert again["pow_challenge"] != first["pow_challenge"]  # a fresh one each call
    for page in ("/", "/topic/news", "/drops/new", "/trending"):
        assert http.get(page)[0] == 200, page
    assert answer(http.get("/api/posts?topic=news"))[0] == 200
    assert answer(http.get("/api/topics/trending"))[0] == 200
    assert answer(http.get("/readyz"))[0] == 200


def test_a_post_reaches_its_topic_the_home_feed_and_live_readers(web):
    http = visitor(web)
    ws = subscribe(web, "science")
    try:
        post = created(http, "/api/posts", {"topic": "science", "blob": blob()})
        assert next_post(ws) == post
    finally:
        ws.close()
    assert feed_ids(http, "topic=science")[0] == post["id"]
    assert post["id"] in feed_ids(http, "")
    assert answer(http.get(f"/api/posts/{post['id']}")) == (200, post)

    comment = created(http, f"/api/posts/{post['id']}/comments", {"blob": blob()})
    status, comments = answer(http.get(f"/api/posts/{post['id']}/comments"))
    assert status == 200
    assert [c["id"] for c in comments["items"]] == [comment["id"]]
    assert answer(http.get(f"/api/posts/{post['id']}"))[1]["comment_count"] == 1


def test_a_room_post_stays_in_its_room(web):
    http = visitor(web)
    room = created(http, "/api/rooms", {})["room"]
    post = created(http, "/api/posts", {"room": room, "blob": blob()})
    assert feed_ids(http, f"room={room}") == [post["id"]]
    assert post["id"] not in feed_ids(http, "")
    created(http, f"/api/posts/{post['id']}/comments", {"blob": blob()})
    assert len(answer(http.get(f"/api/posts/{post['id']}/comments"))[1]["items"]) == 1


def test_a_drop_opens_three_times_then_is_gone(web, cluster):
    http = visitor(web)
    drop = created(http, "/api/drops", {"text": "on the cluster"})
    assert cluster.client().exists(drop_keys.DROP(id=drop["id"]))
    opened = [open_drop(visitor(web), drop["id"], key) for key in drop["keys"]]
    assert [status for status, _ in opened] == [200, 200, 200]
    assert [o["text"] for _, o in opened] == ["on the cluster"] * 3
    assert [o["views_left"] for _, o in opened] == [2, 1, 0]
    assert open_drop(http, drop["id"], drop["keys"][0])[0] == 410
    assert not cluster.client().exists(drop_keys.DROP(id=drop["id"]))


def test_fifty_parallel_opens_give_exactly_three_successes(web):
    drop = created(visitor(web), "/api/drops", {"text": "a crowd"})
    readers = [visitor(web, f"198.51.100.{n}") for n in range(50)]
    start = threading.Barrier(50)

    def attempt(n: int) -> int:
        start.wait()
        return open_drop(readers[n], drop["id"], drop["keys"][n % 3])[0]

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(200) == 3
    assert set(statuses) <= {200, 403, 410}


def test_flags_from_three_networks_hide_a_post(web):
    author = visitor(web)
    post = created(author, "/api/posts", {"topic": "culture", "blob": blob()})
    hidden = []
    for network in ("198.51.100.9", "203.0.113.9", "2001:db8:67::1"):
        flagger = visitor(web, network)
        status, flagged = write(
            flagger, "/api/flags", {"type": "post", "id": post["id"], "reason": "spam"}
        )
        assert status == 202, flagged
        hidden.append(flagged["hidden"])
    assert hidden == [False, False, True]
    assert post["id"] not in feed_ids(author, "topic=culture")
    assert post["id"] not in feed_ids(author, "")


# --- the keys on the masters ------------------------------------------------------


def test_the_data_spreads_over_the_masters(web, cluster):
    http = visitor(web)
    drops = [created(http, "/api/drops", {"text": f"drop {n}"}) for n in range(12)]
    for topic in ("general", "news", "sport", "technology"):
        created(http, "/api/posts", {"topic": topic, "blob": blob()})
    found = cluster.keys_per_master()
    assert len(found) == 3
    holding_drops = [
        port for port, names in found.items() if any(drop_keys.DROP.matches(k) for k in names)
    ]
    holding_posts = [
        port for port, names in found.items() if any(board_keys.POST.matches(k) for k in names)
    ]
    # 12 drops with random ids all in one third of the slots: 3 * (1/3)**12, never.
    assert len(holding_drops) > 1, found
    assert len(holding_posts) > 1, found  # the four topics' slots are not all on one
    for drop in drops:
        assert cluster.client().exists(drop_keys.DROP(id=drop["id"]))


def manage(env: dict[str, str], *args: str) -> str:
    """``manage.py`` in its own process, on the cluster."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_stats_and_purge_reach_every_master(web, cluster, env):
    http = visitor(web)
    for n in range(6):
        created(http, "/api/drops", {"text": f"counted {n}", "ttl_seconds": 3600})
    found = cluster.keys_per_master()
    assert sum(1 for names in found.values() if names) > 1  # not all on one master
    every_key = [name for names in found.values() for name in names]
    # Keys only expire from here on (nothing writes): each count lies between the
    # keys that will outlive the commands and every key found now.
    store = cluster.client()
    ttls = {name: store.pttl(name) for name in every_key}
    staying = [name for name, ttl in ttls.items() if ttl == -1 or ttl > 60_000]

    def between(count: int, fits) -> None:
        low = sum(1 for name in staying if fits(name))
        high = sum(1 for name in every_key if fits(name))
        assert low <= count <= high, (low, count, high)

    counts = json.loads(manage(env, "stats", "--json"))
    between(counts["keys"], lambda name: True)
    between(counts["drops"], drop_keys.DROP.matches)
    between(counts["posts"], board_keys.POST.matches)
    assert counts["drops"] >= 6
    used = sum(int(redis.Redis(port=port).info("memory")["used_memory"]) for port in found)
    assert counts["redis_memory_bytes"] >= used * 0.9  # every master's memory, not one's

    # No master keeps a client address (every visitor here sent one).
    for port in found:
        assert addresses_in_store(redis.Redis(port=port)) == [], port

    printed = manage(env, "purge", "--yes")
    purged = int(re.search(r"Purged (\d+) keys", printed).group(1))
    between(purged, lambda name: True)
    assert cluster.keys_per_master() == {port: [] for port in found}


# --- a master dies under load -----------------------------------------------------


@dataclass
class Load:
    """Writers that post in one topic and make drops until told to stop, keeping
    every answer."""

    web: DaphneServer
    topic: str
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[str, float, int, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def writer(self, kind: str, address: str) -> None:
        http = visitor(self.web, address)
        while not self.stop.is_set():
            if kind == "post":
                status, data = write(http, "/api/posts", {"topic": self.topic, "blob": blob()})
            else:
                status, data = write(http, "/api/drops", {"text": "load", "ttl_seconds": 300})
            with self.lock:
                self.answers.append((kind, time.monotonic(), status, data))
            # A steady trickle, not a flood: every write is checked afterwards.
            self.stop.wait(WRITE_INTERVAL)

    def count(self, kind: str, status: int, since: float = 0.0) -> int:
        with self.lock:
            return sum(1 for k, t, s, _ in self.answers if (k, s) == (kind, status) and t > since)

    def since(self, moment: float) -> str:
        """What the writers got after ``moment``: a count per kind and answer, and the
        last few answers that were not 201."""
        with self.lock:
            later = [(k, s, data) for k, t, s, data in self.answers if t > moment]
        tally = sorted({(k, s) for k, s, _ in later})
        counts = {f"{k} {s}": sum(1 for a in later if a[:2] == (k, s)) for k, s in tally}
        return f"since then: {counts}; last refusals: {[a for a in later if a[1] != 201][-4:]}"

    def made(self, kind: str) -> list[dict]:
        with self.lock:
            return [data for k, _, s, data in self.answers if k == kind and s == 201]


def wait_until(
    check: Callable[[], object], seconds: float, what: str, seen: Callable[[], object] = str
) -> None:
    """Wait for ``check``; on timeout fail with ``seen()``, what was found instead."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}; {seen()}"
        time.sleep(0.05)


def topic_away_from_home(cluster: Cluster) -> str:
    """A configured topic whose slot is served by another master than the home
    feed's: killing it leaves the home-feed step of a post standing while the
    post's own step fails."""
    home = cluster.master_of(board_keys.feed_key())
    for topic in TOPICS:
        if cluster.master_of(board_keys.feed_key(topic=topic)) != home:
            return topic
    raise AssertionError("every topic's slot is on the home feed's master")


@pytest.fixture
def own_cluster():
    """A cluster of the test's own, for a test that kills one of its masters."""
    started = Cluster().start()
    yield started
    started.stop()


def test_a_killed_master_means_503s_until_its_replica_takes_over_and_nothing_half_written(
    own_cluster, channel, tmp_path
):
    cluster = own_cluster
    topic = topic_away_from_home(cluster)
    victim = cluster.master_of(board_keys.feed_key(topic=topic))
    calm = next(t for t in TOPICS if cluster.master_of(board_keys.feed_key(topic=t)) != victim)
    web = cluster_web(site_env(cluster, channel, str(tmp_path)))
    load = Load(web, topic)
    writers = [
        threading.Thread(target=load.writer, args=(kind, address), daemon=True)
        for kind, address in (
            ("post", "192.0.2.21"),
            ("post", "203.0.113.22"),
            ("drop", "198.51.100.23"),
            ("drop", "2001:db8:24::1"),
        )
    ]
    try:
        for thread in writers:
            thread.start()
        wait_until(
            lambda: load.count("post", 201) >= 4 and load.count("drop", 201) >= 4,
            20,
            "writes succeed before the kill",
        )

        cluster.node(victim).stop()  # SIGKILL: no handover
        killed_at = time.monotonic()
        # Meanwhile a script new to the cluster still runs on another master's slot
        # (NOSCRIPT, then EVAL on that node: a SCRIPT LOAD would go to every master).
        fresh = LuaScript(f"-- {os.urandom(8).hex()}\nreturn redis.call('exists', KEYS[1])")
        assert fresh([board_keys.feed_key(topic=calm)], [], conn=cluster.client()) in (0, 1)
        wait_until(lambda: load.count("post", 503, killed_at) > 0, 20, "a post answers 503")
        wait_until(
            lambda: len(cluster.master_ports()) == 3 and victim not in cluster.master_ports(),
            20,
            "a replica takes over the dead master's slots",
        )
        cluster.wait_ok()
        promoted_at = time.monotonic()
        wait_until(
            lambda: (
                load.count("post", 201, promoted_at) >= 3
                and load.count("drop", 201, promoted_at) >= 3
            ),
            20,
            "writes resume after the promotion",
            lambda: load.since(promoted_at),
        )
        load.stop.set()
        for thread in writers:
            thread.join(timeout=15)

        odd = [a for a in load.answers if a[2] not in STATUSES_OF_A_WRITE]
        assert not odd, odd[:3]  # 503 while the slot had no master, else 201
        check_nothing_half_written(cluster, web, topic, load)
    finally:
        load.stop.set()
        printed = web.stop()
    assert_no_server_error(printed, outage=True)
    assert "Traceback" not in printed


def check_nothing_half_written(cluster: Cluster, web, topic: str, load: Load) -> None:
    http = visitor(web, "192.0.2.99")
    # Every post a feed shows opens, with its comments.
    for query in (f"topic={topic}", ""):
        for item in feed(http, query):
            assert answer(http.get(f"/api/posts/{item['id']}"))[0] == 200, item
            assert answer(http.get(f"/api/posts/{item['id']}/comments"))[0] == 200, item
    # Every entry of a feed's zset is a post that opens and is listed, or (the home
    # feed only: its entry is written before the post) one whose post never came,
    # which readers skip (and prune once it is a minute old).
    store = cluster.client()
    for query, key, may_dangle in (
        (f"topic={topic}", board_keys.feed_key(topic=topic), False),
        ("", board_keys.feed_key(), True),
    ):
        listed = set(feed_ids(http, query))
        for member in store.zrange(key, 0, -1):
            post_id = member.decode()
            status = answer(http.get(f"/api/posts/{post_id}"))[0]
            if status == 404 and may_dangle:
                assert post_id not in listed, (key, post_id)
            else:
                assert status == 200 and post_id in listed, (key, post_id, status)
    # An acknowledged post is whole or (Redis replicates asynchronously: a write
    # the dead master acknowledged just before dying may be lost) wholly absent.
    in_topic = set(feed_ids(http, f"topic={topic}"))
    for post in load.made("post"):
        status, _ = answer(http.get(f"/api/posts/{post['id']}"))
        assert status in (200, 404)
        assert (status == 200) == (post["id"] in in_topic), post["id"]
    # Every drop opens exactly three times, or not at all.
    reader = visitor(web, "203.0.113.99")
    for drop in load.made("drop"):
        opened = [open_drop(reader, drop["id"], key)[0] for key in drop["keys"]]
        assert opened in ([200, 200, 200], [410, 410, 410]), (drop["id"], opened)
        assert open_drop(reader, drop["id"], drop["keys"][0])[0] == 410
