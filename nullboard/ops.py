"""The project package's part in site-wide operations (nullboard.sitewide)."""

from __future__ import annotations

from nullboard import keys

COUNTED = {"sessions": keys.SESSION}
