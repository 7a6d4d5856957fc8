"""Solving proofs of work, for tests, benchmarks and scripts (the site only checks them)."""

from __future__ import annotations

import hashlib


def solve(challenge: str, difficulty: int) -> str:
    """Find a nonce by brute force: sha256(challenge + nonce) starts with
    ``difficulty`` zero hex digits."""
    n = 0
    target = "0" * difficulty
    while True:
        nonce = str(n)
        if hashlib.sha256((challenge + nonce).encode()).hexdigest().startswith(target):
            return nonce
        n += 1
