"""Redis key formats of drops and the patterns that match them, declared once
(format with validated ids and HMACs only; stats and purge match keys with these).

Hash tags ([brackets]) put what one Lua script touches in one Redis Cluster slot
(docs/scaling.md): a drop and everything about it (its receipt, wrong-key counters
and audio tickets) share the drop id's slot, so opening it is one atomic step and
exactly-N holds; a network's quota is its own slot; the media index (expiry zset and
media byte count) is one slot shared by every drop. A create or a burn crosses
these slots in single-slot steps ordered so a crash between two leaves nothing
visible half-written (drops.repository).
"""

from __future__ import annotations

from nullboard.redis_utils import KeyFormat

DROP_ID = "[A-Za-z0-9_-]{16}"  # 12 random bytes, base64url (drops.media.DROP_ID)
HMAC = "[A-Za-z0-9_-]+"  # a client, network or ticket as an HMAC (hex)

# The drop's slot: tag = the drop id.
DROP = KeyFormat("drop:[{id}]", id=DROP_ID)  # hash: the drop record (drops.records)
RECEIPT = KeyFormat("drop:[{id}]:receipt", id=DROP_ID)  # hash: token HMAC, used times, burn time
FAILS_DROP = KeyFormat("drop:[{id}]:fails", id=DROP_ID)  # wrong keys tried on one drop, by anyone
# Wrong keys tried by one client on one drop.
FAILS_PAIR = KeyFormat("drop:[{id}]:fails:{client}", id=DROP_ID, client=HMAC)
# hash: one single-use audio stream of the drop
TICKET = KeyFormat("drop:[{id}]:ticket:{hash}", id=DROP_ID, hash=HMAC)
# A client's slot: its wrong keys on any drop.
FAILS_CLIENT = KeyFormat("drops:fails:[{client}]", client=HMAC)
# A network's slot: its live drops (zset id -> expiry) and their voice bytes (hash).
QUOTA = KeyFormat("drops:quota:[{network}]", network=HMAC)
QUOTA_BYTES = KeyFormat("drops:quota:[{network}]:bytes", network=HMAC)
# The media slot: drop id -> when its files may go, and the bytes of media stored
# (the sweeper re-counts), checked and counted together when a drop is created.
EXPIRY = KeyFormat("drops:[media]:expiry")
MEDIA_BYTES = KeyFormat("drops:[media]:bytes")
SWEEP_LOCK = KeyFormat("drops:sweep-lock")
