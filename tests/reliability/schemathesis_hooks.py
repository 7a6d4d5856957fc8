"""Schemathesis hooks for test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

A schema cannot say "a real recording": schema-valid voice drops get a small,
real WebM so they reach the proof-of-work check instead of the audio check.
"""

from __future__ import annotations

import schemathesis

from tests.drops.samples import webm


@schemathesis.hook("map_case").apply_to(method="POST", path="/api/drops")
def real_recording(context, case):
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        case.body["audio"] = webm(2.0)
    return case
