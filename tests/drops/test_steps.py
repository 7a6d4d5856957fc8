"""A create crosses three slots (the drop's, its network's quota, the media index) in
single-slot steps: claim (one pipelined round trip), files, save. A crash between
them leaves nothing visible half-written, and a refused or failed create gives back
exactly what it took (docs/scaling.md, "Redis Cluster"; drops.repository)."""

from __future__ import annotations

import secrets
import time

import pytest
import redis
import time_machine

from drops import keys as drop_keys
from drops import media, repository, selectors, services
from drops.sweep import media_sweep
from nullboard import redis_utils
from tests.drops.helpers import create_text

NETWORK = "steps-network"


def claim_only(drop_id: str, *, now: int, ttl: int = 600) -> repository.Claim:
    """Step 1 of a create, then the crash: no files, no save."""
    return repository.drop_claim(
        drop_id=drop_id,
        now=now,
        reserve_seconds=services.RESERVE_SECONDS,
        expires_at=now + ttl,
        file_bytes=100,
        voice_bytes=0,
        quota=services.network_quota(NETWORK),
    )


def text_drop(**kwargs) -> services.CreatedDrop:
    return services.drop_create(
        link_base="https://nullboard.test/d/",
        network=NETWORK,
        ttl_seconds=600,
        max_views=3,
        text="steps",
        **kwargs,
    )


def test_a_claim_without_its_save_is_no_drop_to_any_reader():
    drop_id = secrets.token_urlsafe(12)
    claim = claim_only(drop_id, now=int(time.time()))
    assert claim.code == repository.STORED
    conn = redis_utils.client()
    # What the claim wrote: a reservation, a quota entry, an index entry.
    assert conn.hkeys(drop_keys.DROP(id=drop_id)) == [b"reserved"]
    assert conn.zscore(drop_keys.QUOTA(network=NETWORK), drop_id) is not None
    assert conn.zscore(drop_keys.EXPIRY(), drop_id) is not None
    # No reader sees a drop.
    assert selectors.drop_peek(drop_id=drop_id) is None
    with pytest.raises(services.DropGone):
        services.drop_open(drop_id=drop_id, verifier=b"\0" * 32, client="reader")
    with pytest.raises(services.DropGone):
        services.drop_burn(drop_id=drop_id, receipt_token="r" * 22)
    # The id stays spoken for (its entries point at it) ...
    with pytest.raises(services.IdTaken):
        services.drop_store(
            link_base="https://nullboard.test/d/",
            network="another-network",
            ttl_seconds=600,
            max_views=3,
            kind="text",
            seal=services.SealInput(drop_id, b"s" * 16, 0, [b"v" * 32] * 3, [b"w" * 40] * 3),
            ciphertext=b"c" * 40,
        )
    # ... and a retry with a fresh id completes.
    assert selectors.drop_peek(drop_id=text_drop().id) is not None


def test_what_a_crashed_create_left_frees_itself_when_its_time_is_up(settings):
    settings.DROP_NETWORK_MAX_DROPS = 1
    now = int(time.time())
    drop_id = secrets.token_urlsafe(12)
    claim_only(drop_id, now=now)
    with pytest.raises(services.QuotaExceeded):
        text_drop()  # the network's one place is held by the claim's entry
    with time_machine.travel(now + 601, tick=False):
        media_sweep(now=time.time(), grace=0)  # the index entry is swept (no drop)
        assert redis_utils.client().zscore(drop_keys.EXPIRY(), drop_id) is None
        created = text_drop()  # the quota entry expired by its score
    assert redis_utils.client().zscore(drop_keys.QUOTA(network=NETWORK), drop_id) is None
    assert redis_utils.client().zscore(drop_keys.QUOTA(network=NETWORK), created.id)


def test_a_refused_create_gives_back_what_it_took(settings):
    settings.DROP_NETWORK_MAX_DROPS = 1
    first = text_drop()
    conn = redis_utils.client()
    counted = int(conn.get(drop_keys.MEDIA_BYTES()))
    index = conn.zcard(drop_keys.EXPIRY())
    drop_id = secrets.token_urlsafe(12)
    assert claim_only(drop_id, now=int(time.time())).code == repository.TOO_MANY
    assert conn.exists(drop_keys.DROP(id=drop_id)) == 0  # the reservation went back
    assert int(conn.get(drop_keys.MEDIA_BYTES())) == counted  # so did the bytes
    assert conn.zcard(drop_keys.EXPIRY()) == index  # and the index entry
    assert conn.zrange(drop_keys.QUOTA(network=NETWORK), 0, -1) == [first.id.encode()]


def test_an_id_taken_by_a_live_drop_leaves_that_drops_entries_alone():
    live = text_drop()
    conn = redis_utils.client()
    quota = conn.zscore(drop_keys.QUOTA(network=NETWORK), live.id)
    index = conn.zscore(drop_keys.EXPIRY(), live.id)
    assert claim_only(live.id, now=int(time.time()) + 5).code == repository.TAKEN
    assert conn.zscore(drop_keys.QUOTA(network=NETWORK), live.id) == quota
    assert conn.zscore(drop_keys.EXPIRY(), live.id) == index
    assert selectors.drop_peek(drop_id=live.id) is not None


def test_a_failed_file_write_gives_the_claim_back(monkeypatch):
    conn = redis_utils.client()
    before = int(conn.get(drop_keys.MEDIA_BYTES()) or 0)

    def broken(**_: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(media, "qr_store", broken)
    with pytest.raises(OSError):
        text_drop()
    assert int(conn.get(drop_keys.MEDIA_BYTES()) or 0) == before
    assert conn.zcard(drop_keys.EXPIRY()) == 0
    assert conn.zcard(drop_keys.QUOTA(network=NETWORK)) == 0
    assert list(conn.scan_iter(match="nb:drop:*")) == []


def test_a_burn_gives_the_network_its_place_back(client, settings):
    settings.DROP_NETWORK_MAX_DROPS = 1
    first = text_drop()
    with pytest.raises(services.QuotaExceeded):
        text_drop()
    assert services.drop_burn(drop_id=first.id, receipt_token=first.receipt_token)
    assert redis_utils.client().zscore(drop_keys.EXPIRY(), first.id) is None
    text_drop()


def test_a_last_view_gives_the_network_its_place_back(client, settings):
    drop = create_text(client)
    conn = redis_utils.client()
    (network,) = [
        key for key in conn.scan_iter(match="nb:drops:quota:*") if not key.endswith(b":bytes")
    ]
    assert conn.zscore(network, drop["id"]) is not None
    for key in drop["keys"]:
        services.drop_open_with_key(drop_id=drop["id"], key=key, passphrase="", client="c")
    assert conn.zscore(network, drop["id"]) is None
    assert conn.zscore(drop_keys.EXPIRY(), drop["id"]) is None


class NoPipelines:
    """The store, except that a pipeline meets an outage (the follow-up steps' own)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def __getattr__(self, name: str):
        return getattr(self.conn, name)

    def pipeline(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("the quota and index slots are away")


def test_a_last_view_is_answered_when_its_follow_up_steps_fail(client, monkeypatch):
    drop = create_text(client)
    for key in drop["keys"][:2]:
        services.drop_open_with_key(drop_id=drop["id"], key=key, passphrase="", client="c")
    store = redis_utils.client()
    monkeypatch.setattr(redis_utils, "client", lambda: NoPipelines(store))
    opened = services.drop_open_with_key(
        drop_id=drop["id"], key=drop["keys"][2], passphrase="", client="c"
    )
    monkeypatch.undo()
    assert opened.text and opened.views_left == 0
    assert store.exists(drop_keys.DROP(id=drop["id"])) == 0
    # What the missed step left waits for the drop's expiry: the index entry, swept then.
    assert store.zscore(drop_keys.EXPIRY(), drop["id"]) is not None
