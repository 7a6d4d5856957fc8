"""The server-rendered share page (no JavaScript) and the receipt's times."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import time_machine
from django.test import Client

from tests.drops.helpers import create_text, open_drop

READER_LINK = re.compile(r"data-reader-link>([^<]+)</p>")
READER_KEY = re.compile(r"data-reader-key>([^<]+)</code>")


def _form_drop(client, **fields) -> str:
    response = client.post("/drops/new", {"text": "by hand", "ttl_seconds": 30, **fields})
    assert response.status_code == 201, response.content
    return response.content.decode()


def _flat(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", body).split())


def test_the_no_js_share_page_gives_each_reader_a_link_with_its_key(client):
    body = _form_drop(client)
    bare = html.unescape(re.search(r'value="([^"]+)" data-share-link', body).group(1))
    keys = READER_KEY.findall(body)
    links = [html.unescape(link) for link in READER_LINK.findall(body)]
    assert len(keys) == 3 and links == [f"{bare}#key={key}" for key in keys]
    for n in (1, 2, 3):
        assert f'data-copy="reader-link-{n}"' in body and f"Copy link for reader {n}" in body
    # The links hold real keys: reader 2's opens the drop.
    drop_id = bare.rsplit("/d/", 1)[1]
    assert open_drop(Client(), drop_id, links[1].split("#key=")[1]).status_code == 200


def test_the_share_page_counts_views_in_words(client):
    text = _flat(_form_drop(client, max_views=1))
    assert "or after 1 view, whichever comes first" in text
    assert "Only the first reader to open it will read it" in text
    assert "view(s)" not in text
    text = _flat(_form_drop(client, max_views=3))
    assert "or after 3 views, whichever comes first" in text
    assert "Only the first" not in text
    assert "Sealed on the server, because JavaScript was off." in text


def _times(body: str) -> dict[str, str]:
    """The machine-readable time of each local-time element, by what it marks."""
    found = {}
    for attrs in re.findall(r"<time ([^>]*data-local-time[^>]*)>", body):
        stamp = re.search(r'datetime="([^"]+)"', attrs).group(1)
        mark = re.search(r"data-receipt-(\w+)", attrs)
        found[mark.group(1) if mark else "use"] = stamp
    return found


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def test_the_receipt_marks_each_time_for_the_readers_clock(client):
    with time_machine.travel(1_900_000_000, tick=False):
        drop = create_text(client, ttl_seconds=300)
    with time_machine.travel(1_900_000_042, tick=False):
        open_drop(Client(), drop["id"], drop["keys"][0])
        body = client.get(drop["receipt_url"]).content.decode()
    assert _times(body) == {"use": _iso(1_900_000_042), "expires": _iso(1_900_000_300)}
    text = _flat(body)
    assert "Key 1: used at 2030-03-17 17:47:22 UTC" in text
    assert "burns at 2030-03-17 17:51:40 UTC" in text and "Times are in UTC." in text
    assert "or after 3 views, whichever comes first" in text


def test_the_receipt_says_when_the_drop_burned(client):
    with time_machine.travel(1_900_000_000, tick=False):
        drop = create_text(client, ttl_seconds=300)
    with time_machine.travel(1_900_000_010, tick=False):
        client.post(drop["receipt_url"])
        body = client.get(drop["receipt_url"]).content.decode()
    assert _times(body) == {"burned": _iso(1_900_000_010)}
    assert "Your drop burned at 2030-03-17 17:46:50 UTC" in _flat(body)
