"""Site-wide operations and readiness on a real Redis Cluster of three masters: purge
and stats reach every master (one SCAN each, UNLINK split by slot), drops keep
exactly-N across nodes, and /readyz answers 503 JSON when a slot's master is gone
or the cluster says it is not ok (docs/scaling.md, "Redis Cluster")."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import redis
import redis.asyncio
import uvloop
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command

from drops import keys as drop_keys
from drops import services as drops
from nullboard import checks, cluster, redis_utils, sitewide
from tests.drops.helpers import crowd_open
from tests.servers import RedisCluster, RedisServerMissing


class ClusterStorage(FileSystemStorage):
    """The drops' files of these tests, in a folder of their own."""


@pytest.fixture(scope="module")
def three_masters():
    try:
        found = RedisCluster(masters=3, replicas=0).start()
    except RedisServerMissing:
        pytest.skip("redis-server is not installed")
    yield found
    found.stop()


def masters_of(found: RedisCluster) -> list[redis.Redis]:
    return [redis.Redis(port=port) for port in found.master_ports()]


@pytest.fixture
def on_cluster(three_masters, settings, monkeypatch, tmp_path):
    """The site's data on the three masters: REDIS_CLUSTER_NODES set, and the raw
    client every repository uses is the cluster's."""
    settings.REDIS_CLUSTER_NODES = [("127.0.0.1", node.port) for node in three_masters.nodes]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": f"{__name__}.ClusterStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    cluster.sync_client.cache_clear()
    conn = cluster.sync_client()
    conn.flushall()  # every master
    monkeypatch.setattr(redis_utils, "_client", conn)
    yield three_masters
    default_storage._wrapped = None  # type: ignore[attr-defined]  # rebuilt on next use
    cluster.sync_client.cache_clear()  # the next test builds its own


def a_drop() -> drops.CreatedDrop:
    return drops.drop_create(
        link_base="https://nullboard.test/d/",
        network="cluster-test",
        ttl_seconds=600,
        max_views=3,
        text="on three masters",
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_stats_and_purge_cover_every_master(on_cluster):
    made = [a_drop() for _ in range(24)]
    masters = masters_of(on_cluster)
    per_master = [len(list(m.scan_iter(match="nb:*"))) for m in masters]
    assert len(masters) == 3 and all(per_master), per_master  # keys on every master
    drop_slots = {redis_utils.client().keyslot(drop_keys.DROP(id=d.id)) for d in made}
    assert len(drop_slots) > 3

    counts = json.loads(run("stats", "--json"))
    assert counts["drops"] == 24
    assert counts["keys"] == sum(per_master)
    assert counts["media_files"] == 24
    memory = [int(m.info("memory")["used_memory"]) for m in masters]
    assert counts["redis_memory_bytes"] >= sum(memory) * 0.9  # every master's, summed

    # A batch of keys from many slots goes in one UNLINK call, split by slot.
    assert sitewide.purge()["keys"] == sum(per_master)
    assert [list(m.scan_iter(match="nb:*")) for m in masters] == [[], [], []]
    assert json.loads(run("stats", "--json"))["drops"] == 0


def test_fifty_parallel_opens_on_three_masters_give_exactly_three(on_cluster):
    made = [a_drop() for _ in range(3)]  # on different masters, most likely
    for drop in made:
        results = crowd_open(
            lambda n, drop=drop: drops.drop_open_with_key(
                drop_id=drop.id, key=drop.keys[n % 3], passphrase="", client=f"c{n}"
            )
        )
        assert results.count("ok") == 3
        assert set(results) <= {"ok", "used", "gone"}
        conn = redis_utils.client()
        assert conn.exists(drop_keys.DROP(id=drop.id)) == 0
        # The follow-up steps in the other slots ran: the quota place and the index entry.
        assert conn.zscore(drop_keys.QUOTA(network="cluster-test"), drop.id) is None
        assert conn.zscore(drop_keys.EXPIRY(), drop.id) is None


def test_readyz_is_ok_while_every_master_answers(on_cluster, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok"}


def test_readyz_is_503_while_the_cluster_is_not_ok(on_cluster, client):
    port = on_cluster.master_ports()[0]
    owner = redis.Redis(port=port)
    slot = _first_slot_of(owner)
    owner.execute_command("CLUSTER", "DELSLOTS", slot)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "redis": "down"}
        assert response["Retry-After"] == "5"
    finally:
        owner.execute_command("CLUSTER", "ADDSLOTS", slot)
        on_cluster.wait_ok()
    cluster.sync_client().nodes_manager.initialize()
    assert client.get("/readyz").status_code == 200


def _first_slot_of(node: redis.Redis) -> int:
    """The first slot this master serves."""
    myself = node.execute_command("CLUSTER", "MYID").decode()
    for start, _end, (_host, _port, owner_id, *_) in node.execute_command("CLUSTER", "SLOTS"):
        if owner_id.decode() == myself:
            return int(start)
    raise AssertionError("the node serves no slot")


def test_readyz_is_503_when_a_masters_node_is_gone(settings, client, monkeypatch):
    """Its own cluster: a master is killed (no replica to take over)."""
    own = RedisCluster(masters=3, replicas=0).start()
    try:
        settings.REDIS_CLUSTER_NODES = [("127.0.0.1", node.port) for node in own.nodes]
        cluster.sync_client.cache_clear()
        monkeypatch.setattr(redis_utils, "_client", cluster.sync_client())
        assert client.get("/readyz").status_code == 200
        own.node(own.master_ports()[1]).stop()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "redis": "down"}
    finally:
        monkeypatch.undo()
        cluster.sync_client().close()
        cluster.sync_client.cache_clear()
        own.stop()


def test_the_eviction_check_asks_every_master(on_cluster):
    conn = redis_utils.client()
    assert checks.redis_eviction_problems(conn) == []
    last = masters_of(on_cluster)[-1]
    last.config_set("maxmemory-policy", "allkeys-lru")
    try:
        found = checks.redis_eviction_problems(conn)
        assert [p.id for p in found] == ["nullboard.W002"]
        assert "allkeys-lru" in found[0].msg
    finally:
        last.config_set("maxmemory-policy", "noeviction")


def test_a_cluster_is_no_embedded_store(on_cluster, settings):
    settings.REDIS_URL = None
    assert checks.check_embedded_store(None) == []


def getkeys_calls(found: RedisCluster) -> int:
    """COMMAND GETKEYS calls the cluster's running masters have answered."""
    total = 0
    for master in masters_of(found):
        stats = master.info("commandstats")
        total += int(stats.get("cmdstat_command|getkeys", {}).get("calls", 0))
    return total


def keys_on_other_masters(conn: redis.cluster.RedisCluster, away_from: str, count: int) -> list:
    """``count`` keys whose slots another master than ``away_from`` serves."""
    found = (f"nb:test:{n}" for n in range(10_000))
    return [key for key in found if conn.get_node_from_key(key).name != away_from][:count]


EXISTS = redis_utils.LuaScript("return redis.call('exists', KEYS[1])")


def test_pipelined_scripts_are_routed_by_their_keys_without_asking_a_node(on_cluster):
    conn = redis_utils.client()
    EXISTS([drop_keys.DROP(id="warm")], [])  # loaded on its master (NOSCRIPT otherwise)
    before = getkeys_calls(on_cluster)
    calls = [(EXISTS, [drop_keys.DROP(id=f"d{n}")], []) for n in range(12)]
    assert redis_utils.scripts_together(calls, conn=conn) == [0] * 12
    assert getkeys_calls(on_cluster) == before  # no round trip to learn the keys


def test_pipelined_scripts_run_while_the_clients_default_node_is_dead(settings, monkeypatch):
    """The node redis-py would ask for a script's keys is killed: scripts on the
    other masters' slots still run, each once."""
    own = RedisCluster(masters=3, replicas=0).start()
    try:
        settings.REDIS_CLUSTER_NODES = [("127.0.0.1", node.port) for node in own.nodes]
        cluster.sync_client.cache_clear()
        conn = cluster.sync_client()
        victim = conn.get_default_node()
        keys = keys_on_other_masters(conn, victim.name, 6)
        own.node(victim.port).stop()
        calls = [(EXISTS, [key], []) for key in keys]
        assert redis_utils.scripts_together(calls, conn=conn) == [0] * 6
    finally:
        cluster.sync_client().close()
        cluster.sync_client.cache_clear()
        own.stop()


async def write_on_a_transport_closed_under_it(connection: redis.asyncio.Connection) -> None:
    await connection.connect()
    connection._writer.transport.abort()  # what a failover's cleanup does to a connection
    try:
        await connection.send_command("PING")
    finally:
        await connection.disconnect()


@pytest.mark.parametrize(
    ("connection_class", "raised"),
    [
        (cluster.LoopConnection, redis.exceptions.ConnectionError),
        (redis.asyncio.Connection, RuntimeError),
    ],
)
def test_a_write_on_a_closed_transport_is_a_connection_error_on_uvloop(
    three_masters, connection_class, raised
):
    """uvloop, the web server's loop, refuses it with RuntimeError (a 500 under a
    failover); the cluster's connections make it the ConnectionError redis-py
    retries and the site answers 503. The stock connection shows the difference."""
    connection = connection_class(host="127.0.0.1", port=three_masters.master_ports()[0])
    with pytest.raises(raised):
        uvloop.run(write_on_a_transport_closed_under_it(connection))


def test_every_node_the_asyncio_client_finds_uses_those_connections(on_cluster):
    async def nodes_found() -> list:
        client = cluster.async_client()
        try:
            await client.ping(target_nodes=client.ALL_NODES)
            return client.get_nodes()
        finally:
            await client.aclose()

    found = uvloop.run(nodes_found())
    assert len(found) == 3
    assert {node.connection_class for node in found} == {cluster.LoopConnection}
