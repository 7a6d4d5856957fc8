"""Logging filters that keep client addresses out of every log line."""

from __future__ import annotations

import logging


class StripClientAddress(logging.Filter):
    """Blank the ``client`` field the dev server's request lines carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and "client" in record.args:
            record.args = {**record.args, "client": "-"}
        return True
