"""Redis key formats of moderation and the patterns that match them, declared once."""

from __future__ import annotations

from boards.keys import ITEM_ID
from nullboard.redis_utils import KeyFormat

KIND = "post|comment"
NETWORK = "[A-Za-z0-9_-]+"  # an HMAC of a client network (antispam.ratelimit)

FLAG = KeyFormat("flag:{kind}:{item}", kind=KIND, item=ITEM_ID)  # hash: count, reason:<r>, times
# Set: HMACs of (network, item) that flagged the item.
FLAG_VOTERS = KeyFormat("flag:{kind}:{item}:voters", kind=KIND, item=ITEM_ID)
FLAG_QUOTA = KeyFormat("quota:flags:{network}", network=NETWORK)  # flags of a network this window
REPORTS = KeyFormat("reports")  # zset "kind:id" -> last flag time
