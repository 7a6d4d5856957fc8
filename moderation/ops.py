"""Moderation's part in site-wide operations (nullboard.sitewide): what stats counts."""

from __future__ import annotations

from moderation import keys

COUNTED = {"flags": keys.FLAG}
