"""Redis key formats of drops and the patterns that match them, declared once
(format with validated ids and HMACs only; stats and purge match keys with these)."""

from __future__ import annotations

from nullboard.redis_utils import KeyFormat

DROP_ID = "[A-Za-z0-9_-]{16}"  # 12 random bytes, base64url (drops.media.DROP_ID)
HMAC = "[A-Za-z0-9_-]+"  # a client, network or ticket as an HMAC (hex)

DROP = KeyFormat("drop:{id}", id=DROP_ID)  # hash: the drop record (drops.records)
RECEIPT = KeyFormat("drop:{id}:receipt", id=DROP_ID)  # hash: token HMAC, used times, burn time
FAILS_DROP = KeyFormat("drop:{id}:fails", id=DROP_ID)  # wrong keys tried on one drop, by anyone
# Wrong keys tried by one client on one drop.
FAILS_PAIR = KeyFormat("drop:{id}:fails:{client}", id=DROP_ID, client=HMAC)
FAILS_CLIENT = KeyFormat("drops:fails:{client}", client=HMAC)  # by one client, on any drop
QUOTA = KeyFormat("drops:quota:{network}", network=HMAC)  # zset: a network's live drops -> expiry
QUOTA_BYTES = KeyFormat("drops:quota:{network}:bytes", network=HMAC)  # hash: their voice bytes
TICKET = KeyFormat("drops:ticket:{hash}", hash=HMAC)  # hash: one single-use audio stream
EXPIRY = KeyFormat("drops:expiry")  # zset: drop id -> when its files may go
MEDIA_BYTES = KeyFormat("drops:media-bytes")  # bytes of media stored (the sweeper re-counts)
SWEEP_LOCK = KeyFormat("drops:sweep-lock")

# The quota keys split around the network, for scripts that find the network in a drop.
QUOTA_PREFIX = QUOTA(network="")
QUOTA_BYTES_SUFFIX = QUOTA_BYTES(network="").removeprefix(QUOTA_PREFIX)
