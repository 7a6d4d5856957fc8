"""Logging filters: no client address and no capability token in any log line."""

from __future__ import annotations

import logging
import re

SCRUBBED = "[scrubbed]"

# Capabilities: whoever holds one can read or burn a drop, so none may reach a log.
# - URL paths: /d/ID/receipt/TOKEN and /d/ID/audio/TICKET (the token is the path's
#   last segment by contract, so it is cut whatever its shape);
# - key=, k=, verifier=, token=, ticket= in a query or fragment, and the same names
#   as JSON fields;
# - an access key in its display form (groups of four from the key alphabet).
_CAPABILITY_PATTERNS = (
    (re.compile(r"(/d/[^/\s?#\"']+/(?:receipt|audio)/)[^/\s?#\"']+"), rf"\g<1>{SCRUBBED}"),
    (
        re.compile(r"([?#&;](?:key|k|verifier|token|ticket)=)[^&\s\"'#]+", re.IGNORECASE),
        rf"\g<1>{SCRUBBED}",
    ),
    (
        re.compile(
            r"""(["']?(?:key|keys|verifier|verifiers|token|ticket|receipt_token)["']?\s*[:=]\s*)"""
            r"""(?!"?\[scrubbed\])(\[[^\]]*\]|"[^"]*"|'[^']*')""",
            re.IGNORECASE,
        ),
        rf'\g<1>"{SCRUBBED}"',
    ),
    (re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3,}\b"), SCRUBBED),
)


def scrub(text: str) -> str:
    """``text`` with every capability token replaced by ``[scrubbed]``."""
    for pattern, replacement in _CAPABILITY_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class StripClientAddress(logging.Filter):
    """Blank the ``client`` field the dev server's request lines carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and "client" in record.args:
            record.args = {**record.args, "client": "-"}
        return True


class ScrubCapabilities(logging.Filter):
    """Cut capability tokens out of a record's message and traceback, so Django's
    "Forbidden (Permission denied): /d/ID/receipt/TOKEN" and the like keep their
    shape but lose the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
