"""The home page in the real browser: it renders, with no console or CSP errors."""

import hashlib

import pytest

pytestmark = pytest.mark.browser


def test_home_page_loads_clean(new_page):
    page = new_page("/")
    assert page.locator(".brand").inner_text().strip() == "Nullboard"
    assert page.locator("[data-username]").inner_text()
    assert page.problems == []


def test_the_worker_solves_a_challenge_the_server_accepts(new_page):
    page = new_page("/")
    nonce = page.evaluate(
        """async () => {
            const { solve } = await import('/static/js/pow.js');
            return solve('0123456789abcdef0123456789abcdef', 3);
        }"""
    )
    digest = hashlib.sha256(("0123456789abcdef0123456789abcdef" + nonce).encode()).hexdigest()
    assert digest.startswith("000")
    assert page.problems == []
