"""Redis key formats of moderation and the patterns that match them, declared once.

An item's flags share its slot (the [tag] an item id starts with, boards.keys), so
one script counts a flag against the item; a network's quota and the reports log
are keys of their own slots, written in steps before and after (repository).
"""

from __future__ import annotations

from boards.keys import ITEM_ID, TAG
from nullboard.redis_utils import KeyFormat

KIND = "post|comment"
NETWORK = "[A-Za-z0-9_-]+"  # an HMAC of a client network (antispam.ratelimit)

# Hash: count, reason:<r>, times.
FLAG = KeyFormat("flag:{kind}:[{tag}]:{item}", kind=KIND, tag=TAG, item=ITEM_ID)
# Set: HMACs of (network, item) that flagged the item.
FLAG_VOTERS = KeyFormat("flag:{kind}:[{tag}]:{item}:voters", kind=KIND, tag=TAG, item=ITEM_ID)
# Set: one random token per flag of a network this window (moderation/flag_quota.lua).
FLAG_QUOTA = KeyFormat("quota:flag-tokens:{network}", network=NETWORK)
REPORTS = KeyFormat("reports")  # zset "kind:id" -> last flag time
