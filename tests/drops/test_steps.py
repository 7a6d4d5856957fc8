"""A create crosses three slots (the drop's, its network's quota, the media index) in
single-slot steps: claim (one pipelined round trip), files, save. A crash between
them leaves nothing visible half-written, and a refused or failed create gives back
exactly what it took (docs/scaling.md, "Redis Cluster"; drops.repository)."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import redis
import time_machine
from asgiref.sync import async_to_sync
from django.conf import settings

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


LINK_BASE = "https://nullboard.test/d/"


def same_id_elsewhere(drop_id: str) -> services.StoreRequest:
    """A create, from another network, of a drop whose id is ``drop_id``."""
    return {
        "link_base": LINK_BASE,
        "network": "another-network",
        "ttl_seconds": 600,
        "max_views": 3,
        "kind": "text",
        "seal": services.SealInput(drop_id, b"s" * 16, 0, [b"v" * 32] * 3, [b"w" * 40] * 3),
        "ciphertext": b"c" * 40,
    }


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
        services.drop_store(**same_id_elsewhere(drop_id))
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


# --- the same steps on the event loop (a browser-sealed text: drops.services.adrop_store)
def sealed_drop(store: str, *, drop_id: str | None = None) -> services.CreatedDrop:
    """A browser-sealed text through drop_store ("thread"), or adrop_store ("loop")."""
    seal = services.SealInput(
        drop_id or secrets.token_urlsafe(12), b"s" * 16, 0, [b"v" * 32] * 3, [b"w" * 40] * 3
    )
    kwargs = {
        "link_base": LINK_BASE,
        "network": NETWORK,
        "ttl_seconds": 600,
        "max_views": 3,
        "kind": "text",
        "seal": seal,
        "ciphertext": b"c" * 40,
    }
    if store == "loop":
        return async_to_sync(services.adrop_store)(**kwargs)
    return services.drop_store(**kwargs)


both_paths = pytest.mark.parametrize("store", ["thread", "loop"])


def store_state() -> tuple:
    """What a create that did not complete must leave as it was."""
    conn = redis_utils.client()
    return (
        int(conn.get(drop_keys.MEDIA_BYTES()) or 0),
        conn.zrange(drop_keys.EXPIRY(), 0, -1),
        conn.zrange(drop_keys.QUOTA(network=NETWORK), 0, -1),
        sorted(conn.hkeys(drop_keys.QUOTA_BYTES(network=NETWORK))),
        sorted(key for key in conn.scan_iter(match="nb:drop:*")),
        sorted(path.name for path in (settings.MEDIA_ROOT / "qr").glob("*")),
    )


async def test_a_claim_on_the_loop_without_its_save_is_no_drop_to_any_reader():
    drop_id = secrets.token_urlsafe(12)
    now = int(time.time())
    claim = await repository.adrop_claim(
        drop_id=drop_id,
        now=now,
        reserve_seconds=services.RESERVE_SECONDS,
        expires_at=now + 600,
        file_bytes=100,
        voice_bytes=0,
        quota=services.network_quota(NETWORK),
    )
    assert claim.code == repository.STORED
    conn = redis_utils.aclient()
    assert await conn.hkeys(drop_keys.DROP(id=drop_id)) == [b"reserved"]
    assert await conn.zscore(drop_keys.QUOTA(network=NETWORK), drop_id) is not None
    assert await conn.zscore(drop_keys.EXPIRY(), drop_id) is not None
    with pytest.raises(services.DropGone):
        await services.adrop_open(drop_id=drop_id, verifier=b"\0" * 32, client="reader")
    with pytest.raises(services.IdTaken):  # the id stays spoken for
        await services.adrop_store(**same_id_elsewhere(drop_id))
    # What the refused create took in the other network's slot went back.
    assert await conn.zcard(drop_keys.QUOTA(network="another-network")) == 0


@both_paths
def test_a_stored_drop_has_its_entries_its_file_and_its_count(store):
    before = int(redis_utils.client().get(drop_keys.MEDIA_BYTES()) or 0)
    created = sealed_drop(store)
    conn = redis_utils.client()
    assert selectors.drop_peek(drop_id=created.id) is not None
    assert conn.zscore(drop_keys.QUOTA(network=NETWORK), created.id) is not None
    assert conn.zscore(drop_keys.EXPIRY(), created.id) is not None
    qr = media.qr_read(drop_id=created.id)
    assert qr is not None
    assert int(conn.get(drop_keys.MEDIA_BYTES())) == before + len(qr)


@both_paths
def test_a_create_refused_by_its_quota_gives_back_what_it_took(store, settings):
    settings.DROP_NETWORK_MAX_DROPS = 1
    sealed_drop(store)
    before = store_state()
    with pytest.raises(services.QuotaExceeded):
        sealed_drop(store)
    assert store_state() == before


@both_paths
def test_a_failed_file_write_on_either_path_gives_the_claim_back(store, monkeypatch):
    before = store_state()

    def broken(**_: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(media, "qr_store", broken)
    with pytest.raises(OSError):
        sealed_drop(store)
    assert store_state() == before


class SaveDown:
    """The save script, met by an outage (the drop's slot went away after the claim)."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        raise redis.exceptions.ConnectionError("the drop's slot is away")

    async def acall(self, *args: object, **kwargs: object) -> object:
        raise redis.exceptions.ConnectionError("the drop's slot is away")


@both_paths
def test_an_outage_at_the_save_gives_back_the_claim_and_the_files(store, monkeypatch):
    before = store_state()
    monkeypatch.setattr(repository, "_save", SaveDown())
    with pytest.raises(redis.exceptions.ConnectionError):
        sealed_drop(store)
    assert store_state() == before


@both_paths
def test_a_reservation_that_ran_out_before_the_save_stores_nothing(store, monkeypatch):
    before = store_state()
    qr_store = media.qr_store

    def slow_write(*, drop_id: str, svg: bytes) -> int:
        # The files took longer than the reservation: it expired meanwhile.
        redis_utils.client().delete(drop_keys.DROP(id=drop_id))
        return qr_store(drop_id=drop_id, svg=svg)

    monkeypatch.setattr(media, "qr_store", slow_write)
    with pytest.raises(services.IdTaken):
        sealed_drop(store)
    assert store_state() == before


@pytest.mark.parametrize("local", [True, False])
async def test_the_qr_file_is_written_on_the_loop_only_to_a_local_disk(local, monkeypatch):
    """A local write costs less than a thread hop; an object store's (a network
    request) must not block the loop."""
    writers = []
    qr_store = media.qr_store

    def watched(*, drop_id: str, svg: bytes) -> int:
        writers.append(threading.current_thread())
        return qr_store(drop_id=drop_id, svg=svg)

    monkeypatch.setattr(media, "qr_store", watched)
    monkeypatch.setattr(media, "storage_is_local", lambda: local)
    seal = services.SealInput(
        secrets.token_urlsafe(12), b"s" * 16, 0, [b"v" * 32] * 3, [b"w" * 40] * 3
    )
    created = await services.adrop_store(
        link_base=LINK_BASE,
        network=NETWORK,
        ttl_seconds=600,
        max_views=3,
        kind="text",
        seal=seal,
        ciphertext=b"c" * 40,
    )
    assert (writers == [threading.current_thread()]) is local
    assert media.qr_read(drop_id=created.id) is not None


def test_the_sites_own_media_folder_is_a_local_disk():
    assert media.storage_is_local()
