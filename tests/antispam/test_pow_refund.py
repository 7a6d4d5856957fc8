"""Proof of work is spent only on success: a write that fails on the server (an
outage, a full Redis, any 5xx) gives its challenge back, for every write."""

from __future__ import annotations

import secrets
import shutil

import pytest
import redis
import redis.asyncio.client
import redis.asyncio.cluster
import redis.cluster
from django.conf import settings

from antispam import pow as pow_module
from boards import services as boards
from drops import sealing
from nullboard import redis_utils
from tests.conftest import pow_fields, start_session
from tests.reliability.conftest import blob


@pytest.fixture(autouse=True)
def _no_media_left():
    """The drops made here leave no QR image behind for later tests."""
    yield
    for folder in ("voice", "qr"):
        shutil.rmtree(settings.MEDIA_ROOT / folder, ignore_errors=True)


@pytest.fixture
def writes(client) -> dict[str, dict]:
    start_session(client)
    post = boards.post_create(topic="news", blob=blob(), author="quiet-owl-1234")
    return {
        "/api/posts": {"topic": "news", "blob": blob()},
        f"/api/posts/{post['id']}/comments": {"blob": blob()},
        "/api/rooms": {},
        "/api/drops": {"text": "a secret"},
        "/api/drops?sealed=browser": browser_sealed_text(b"a secret"),  # on the event loop
    }


def browser_sealed_text(plaintext: bytes) -> dict:
    """A create body as the browser sends it (sealed there, see drops.sealing)."""
    drop_id = secrets.token_urlsafe(12)
    sealed = sealing.drop_seal(drop_id=drop_id, kind="text", plaintext=plaintext, passphrase="")
    keys = [
        {"verifier": sealing.b64encode(k.verifier), "wrapped": sealing.b64encode(k.wrapped)}
        for k in sealed.keys
    ]
    seal = {"v": 1, "id": drop_id, "salt": sealing.b64encode(sealed.salt), "iterations": 0}
    return {"seal": seal | {"keys": keys}, "ciphertext": sealing.b64encode(sealed.ciphertext)}


# What a write may still do while Redis refuses writes: read, count its rate limit,
# and spend or refund proof of work (RENAME needs no memory, so a full Redis allows
# it): the memory edge, where some commands pass and the write itself fails.
READS = {"GET", "MGET", "EXISTS", "TTL", "PTTL", "HGET", "HGETALL", "HMGET", "ZRANGE", "SCARD"}


@pytest.fixture
def refuse_writes(monkeypatch):
    """Call it to make every Redis write fail with ``error``, as a full (OOM) or
    unreachable Redis does, except proof of work's own scripts."""

    def start(error: type[Exception]) -> None:
        scripts = (pow_module._consume, pow_module._refund, pow_module._count, pow_module._uncount)
        pow_scripts = {script.sha for script in scripts}
        for script in scripts:  # a fresh Redis has
            redis_utils.client().script_load(script.source)  # no script cached yet
        execute = redis.Redis.execute_command
        aexecute = redis.asyncio.Redis.execute_command
        apipeline = redis.asyncio.client.Pipeline.execute

        def allowed(args: tuple) -> bool:
            name = str(args[0]).upper()
            return (
                name in READS
                or name in ("MULTI", "EXEC")
                or (name == "EVALSHA" and args[1] in pow_scripts)
                # the rate limits ran first (a key's place: SET/INCR, or EVALSHA sha n key)
                or any(":rl:" in str(arg) for arg in args[1:4])
            )

        def refusing(self, *args, **options):
            if allowed(args):
                return execute(self, *args, **options)
            raise error("command not allowed when used memory > 'maxmemory'.")

        execute_pipeline = redis.client.Pipeline.execute

        def refusing_pipeline(self, *args, **kwargs):
            # Proof of work spends a challenge and counts its write in one pipeline.
            if self.command_stack and all(
                str(args[0]).upper() == "EVALSHA" and args[1] in pow_scripts
                for args, _ in self.command_stack
            ):
                return execute_pipeline(self, *args, **kwargs)
            raise error("command not allowed when used memory > 'maxmemory'.")

        # Async views use the event loop's client: the same refusals there (its
        # rate limit is one pipeline of reads and counts, which passes).
        async def arefusing(self, *args, **options):
            if allowed(args):
                return await aexecute(self, *args, **options)
            raise error("command not allowed when used memory > 'maxmemory'.")

        async def arefusing_pipeline(self, *args, **kwargs):
            if all(allowed(command[0]) for command in self.command_stack):
                return await apipeline(self, *args, **kwargs)
            raise error("command not allowed when used memory > 'maxmemory'.")

        # The event loop's cluster client (NB_TEST_CLUSTER=1) sends through its nodes.
        node_execute = redis.asyncio.cluster.ClusterNode.execute_command
        node_pipeline = redis.asyncio.cluster.ClusterNode.execute_pipeline

        async def node_refusing(self, *args, **options):
            # The client's own map reads (CLUSTER SLOTS...) pass, as on a full Redis.
            if allowed(args) or str(args[0]).upper().startswith(("CLUSTER", "COMMAND")):
                return await node_execute(self, *args, **options)
            raise error("command not allowed when used memory > 'maxmemory'.")

        async def node_refusing_pipeline(self, commands):
            if all(allowed(command.args) for command in commands):
                return await node_pipeline(self, commands)
            for command in commands:
                command.result = error("command not allowed when used memory > 'maxmemory'.")
            return True

        # The sync cluster client's pipelines (NB_TEST_CLUSTER=1: scripts_together)
        # send through their nodes' connections, not redis.Redis.execute_command.
        # Each node's share is written by its NodeCommands; a command already holding
        # a result (an error) is not read back.
        node_write = redis.cluster.NodeCommands.write

        def node_refusing_write(self):
            if all(allowed(command.args) for command in self.commands):
                return node_write(self)
            for command in self.commands:
                command.result = error("command not allowed when used memory > 'maxmemory'.")
            return None

        cluster_execute = redis.cluster.RedisCluster.execute_command

        def cluster_refusing(self, *args, **options):
            # The client's own map reads (CLUSTER SLOTS...) pass, as on a full Redis.
            if allowed(args) or str(args[0]).upper().startswith(("CLUSTER", "COMMAND")):
                return cluster_execute(self, *args, **options)
            raise error("command not allowed when used memory > 'maxmemory'.")

        monkeypatch.setattr(redis.cluster.NodeCommands, "write", node_refusing_write)
        monkeypatch.setattr(redis.cluster.RedisCluster, "execute_command", cluster_refusing)
        monkeypatch.setattr(redis.asyncio.cluster.ClusterNode, "execute_command", node_refusing)
        monkeypatch.setattr(
            redis.asyncio.cluster.ClusterNode, "execute_pipeline", node_refusing_pipeline
        )
        monkeypatch.setattr(redis.Redis, "execute_command", refusing)
        monkeypatch.setattr(redis.client.Pipeline, "execute", refusing_pipeline)
        monkeypatch.setattr(redis.asyncio.Redis, "execute_command", arefusing)
        monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", arefusing_pipeline)

    start.undo = monkeypatch.undo
    return start


@pytest.mark.parametrize(
    "error", [redis.exceptions.OutOfMemoryError, redis.exceptions.ConnectionError]
)
def test_a_write_that_fails_on_the_server_gives_its_challenge_back(
    client, writes, refuse_writes, error
):
    solved = {path: pow_fields(client) for path in writes}
    refuse_writes(error)
    for path, body in writes.items():
        response = client.post(path, {**body, **solved[path]}, content_type="application/json")
        assert response.status_code == 503, (path, response.content)
        assert response.json()["error"] == (
            "store_full" if error is redis.exceptions.OutOfMemoryError else "unavailable"
        )
    refuse_writes.undo()
    for path, body in writes.items():
        response = client.post(path, {**body, **solved[path]}, content_type="application/json")
        assert response.status_code == 201, (path, response.content)  # the same challenge
        again = client.post(path, {**body, **solved[path]}, content_type="application/json")
        assert again.status_code == 403 and again.json()["error"] == "pow_expired"


def test_a_refused_write_is_not_counted_in_the_write_rate(client, writes, refuse_writes):
    fields = pow_fields(client)
    before = pow_module.write_rate()
    refuse_writes(redis.exceptions.OutOfMemoryError)
    response = client.post("/api/rooms", fields, content_type="application/json")
    assert response.status_code == 503
    refuse_writes.undo()
    assert pow_module.write_rate() == before


def test_a_refund_after_the_challenge_expired_gives_nothing_back(client):
    start_session(client)
    fields = pow_fields(client)
    sid = client.post("/api/session").json()["sid"]
    refund = pow_module.challenge_consume(
        sid=sid, challenge=fields["pow_challenge"], nonce=fields["pow_nonce"]
    )
    redis_utils.client().delete(pow_module.SPENT(challenge=fields["pow_challenge"]))
    assert refund() is False
    assert not redis_utils.client().exists(pow_module.CHALLENGE(challenge=fields["pow_challenge"]))


def test_a_spent_challenge_keeps_its_expiry(client):
    fields = pow_fields(client)
    sid = client.post("/api/session").json()["sid"]
    live = pow_module.CHALLENGE(challenge=fields["pow_challenge"])
    ttl = redis_utils.client().ttl(live)
    pow_module.challenge_consume(
        sid=sid, challenge=fields["pow_challenge"], nonce=fields["pow_nonce"]
    )
    spent = pow_module.SPENT(challenge=fields["pow_challenge"])
    assert not redis_utils.client().exists(live)
    assert 0 < redis_utils.client().ttl(spent) <= ttl
