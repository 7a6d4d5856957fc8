"""The suite-wide privacy guard itself (tests/privacy.py) catches what it should."""

from __future__ import annotations

import io
import logging

from nullboard import redis_utils
from nullboard.logging import StripClientAddress
from tests.privacy import SERVER_PORTS, LogBook, addresses_in_store, addresses_in_text


def test_log_text_naming_a_client_is_caught_and_a_server_address_is_not():
    assert addresses_in_text("GET /api/posts from 203.0.113.9") == ["203.0.113."]
    assert addresses_in_text("peer 2001:db8:0:1::9 closed") == ["2001:db8:"]
    assert addresses_in_text("peer 2001:DB8::9 closed") == ["2001:db8:"]
    assert addresses_in_text("Forbidden from 127.0.0.1.") == ["127.0.0.1"]
    assert addresses_in_text("client 127.0.0.1 said hello") == ["127.0.0.1"]
    assert addresses_in_text("('127.0.0.1', 53422) connected") == ["127.0.0.1"]
    assert addresses_in_text("127.0.0.1:53422 - GET /") == ["127.0.0.1"]
    # A server the suite started is named by its listening port: not a client.
    SERVER_PORTS.add(58103)
    assert addresses_in_text("Error 111 connecting to 127.0.0.1:58103.") == []
    assert addresses_in_text("Connect call failed ('127.0.0.1', 58103)") == []
    assert addresses_in_text("connecting to 127.0.0.1:58103; from 127.0.0.1") == ["127.0.0.1"]
    assert addresses_in_text("wrote 10.127.0.0.12 bytes") == []


def test_the_log_book_keeps_what_a_handler_writes_after_its_filters():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(StripClientAddress())
    book = LogBook()
    book.watch(handler, "test")
    logger = logging.getLogger("tests.privacy_guard")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "%(client)s %(request)s", {"client": "198.51.100.7:4000", "request": "GET /"}
        )
        logger.warning("Forbidden from %s", "203.0.113.5")
    finally:
        logger.removeHandler(handler)
    assert [line for _, line in book.lines] == ["- GET /", "Forbidden from 203.0.113.5"]
    assert book.offenders() == ["test: Forbidden from 203.0.113.5"]


def test_an_address_anywhere_in_the_store_is_found():
    assert addresses_in_store() == []
    redis_utils.client().hset("nb:probe", "who", "x-198.51.100.7-y")
    assert addresses_in_store() == ["198.51.100."]
    redis_utils.client().delete("nb:probe")
    redis_utils.client().zadd("nb:probe:z", {"127.0.0.1": 1})
    assert addresses_in_store() == ["127.0.0.1"]
    redis_utils.client().delete("nb:probe:z")
