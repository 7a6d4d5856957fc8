"""Schemathesis hooks for test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

A schema cannot say "a real recording": schema-valid voice drops get a small,
real WebM so they reach the proof-of-work check instead of the audio check. Nor can
it say "a JSON string holding a Seal": browser-sealed voice drops get a well-formed
one (random bytes where the browser would put its derivations).
"""

from __future__ import annotations

import base64
import json
import os
import secrets

import schemathesis

from tests.drops.samples import webm


@schemathesis.hook("map_case").apply_to(method="POST", path="/api/drops")
def real_recording(context, case):
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        if "seal" in case.body:
            case.body["seal"] = json.dumps(_seal())
            case.body["ciphertext"] = os.urandom(200)
            case.body.setdefault("mime", "audio/webm")
            case.body.pop("audio", None)
        else:
            case.body["audio"] = webm(2.0)
            case.body.pop("ciphertext", None)
    return case


def _seal() -> dict:
    def b64(size: int) -> str:
        return base64.b64encode(os.urandom(size)).decode()

    keys = [{"verifier": b64(32), "wrapped": b64(61)} for _ in range(3)]
    return {"v": 1, "id": secrets.token_urlsafe(12), "salt": b64(16), "iterations": 0, "keys": keys}
