"""The records of drops, each declared once: the drop's hash and its receipt's hash
(their fields as TypedDicts, and the Redis rows services store). The scripts in this
folder read the same field names (drop_open.lua, drop_burn.lua, drop_save.lua).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict, cast


class DropHash(TypedDict):
    """A sealed drop as Redis keeps it: no key, no plaintext."""

    kind: str  # "text" or "voice"
    exp: int  # expires at, Unix seconds
    views_left: int
    max_views: int
    salt: bytes  # the passphrase hash's salt
    it: int  # the passphrase hash's iterations; 0 without a passphrase
    by: str  # sealed by "browser" or "server"
    q: str  # the creating network's quota id (an HMAC; drops.keys.QUOTA)
    ct: NotRequired[bytes]  # a text drop's ciphertext (a voice drop's is its file)
    mime: NotRequired[str]  # a voice drop's type


# Per access key n (1-3), besides DropHash: "h:<HMAC of its verifier>" -> n, "w<n>" the
# data key wrapped for it, "u<n>" when it was used. "reserved" marks an id whose files
# are being written.
def verifier_field(verifier_hash: str) -> str:
    return f"h:{verifier_hash}"


def wrapped_field(index: int) -> str:
    return f"w{index}"


def used_field(index: int) -> str:
    return f"u{index}"


# What a page may show of a live drop (drops.selectors.drop_peek).
PEEK_FIELDS = ("kind", "exp", "views_left", "salt", "it", "by")


class ReceiptHash(TypedDict):
    """The creator's receipt: uses and state, never keys."""

    token: str  # HMAC of the receipt token
    kind: str
    max_views: int
    exp: int
    burned: NotRequired[int]  # when it was burned
    # and "u<n>" when key n was used


def drop_row(
    *,
    kind: str,
    expires_at: int,
    max_views: int,
    salt: bytes,
    iterations: int,
    sealed_by: str,
    network: str,
    access: Sequence[tuple[str, bytes]],
    ciphertext: bytes,
    mime: str,
) -> dict[str, bytes | str | int]:
    """The drop's hash: DropHash plus, per access key, (verifier HMAC, wrapped data key)."""
    record: DropHash = {
        "kind": kind,
        "exp": expires_at,
        "views_left": max_views,
        "max_views": max_views,
        "salt": salt,
        "it": iterations,
        "by": sealed_by,
        "q": network,
    }
    # A TypedDict is no dict[str, ...] to mypy; DropHash's values are all bytes, str or int.
    row = cast(dict[str, bytes | str | int], dict(record))
    for index, (verifier_hash, wrapped) in enumerate(access, 1):
        row[verifier_field(verifier_hash)] = index
        row[wrapped_field(index)] = wrapped
    if kind == "text":
        row["ct"] = ciphertext
    else:
        row["mime"] = mime
    return row


def receipt_row(*, token_hash: str, kind: str, max_views: int, expires_at: int) -> ReceiptHash:
    """A new drop's receipt hash."""
    return {"token": token_hash, "kind": kind, "max_views": max_views, "exp": expires_at}
