"""POST /api/drops for text: the contract, its bounds, and what it writes."""

from __future__ import annotations

import re

from django.conf import settings

from drops import keys as drop_keys
from drops import media
from nullboard import redis_utils
from tests.conftest import pow_fields, start_session
from tests.drops.helpers import SECRET_TEXT, create_text

GROUPED_KEY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")


def test_it_answers_with_the_contract_fields(client):
    data = create_text(client)
    assert {"id", "url", "qr_url", "keys", "max_views", "expires_at"} <= set(data)
    assert data["url"].endswith(f"/d/{data['id']}")
    assert data["max_views"] == settings.DROP_MAX_VIEWS
    assert len(data["keys"]) == 3 and len(set(data["keys"])) == 3
    assert all(GROUPED_KEY.match(key) for key in data["keys"])


def test_it_stores_the_drop_with_its_ttl(client):
    data = create_text(client)
    ttl = redis_utils.client().ttl(drop_keys.DROP(id=data["id"]))
    assert settings.DROP_TTL_SECONDS - 2 <= ttl <= settings.DROP_TTL_SECONDS


def test_it_accepts_a_longer_life_and_fewer_views(client):
    data = create_text(client, ttl_seconds=3600, max_views=1)
    assert data["max_views"] == 1
    assert 3590 <= redis_utils.client().ttl(drop_keys.DROP(id=data["id"])) <= 3600


def test_it_refuses_a_life_or_views_out_of_bounds(client):
    for extra in (
        {"ttl_seconds": settings.DROP_MAX_TTL_SECONDS + 1},
        {"ttl_seconds": 1},
        {"max_views": 4},
        {"max_views": 0},
        {"max_views": "three"},
    ):
        body = {"text": "hi", **pow_fields(client), **extra}
        response = client.post("/api/drops", body, content_type="application/json")
        assert response.status_code == 400, extra
        assert response.json()["error"] == "invalid_field"
    assert redis_utils.client().keys("nb:drop:*") == []


def test_it_refuses_empty_and_overlong_text(client):
    for text in ("", "   ", "x" * 10_001):
        body = {"text": text, **pow_fields(client)}
        response = client.post("/api/drops", body, content_type="application/json")
        assert response.status_code == 400
    assert redis_utils.client().keys("nb:drop:*") == []


def test_it_takes_ten_thousand_characters(client):
    create_text(client, text="é" * 10_000)


def test_it_needs_proof_of_work(client):
    start_session(client)
    response = client.post("/api/drops", {"text": "hi"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "missing_field"
    body = {"text": "hi", "pow_challenge": "0" * 32, "pow_nonce": "1"}
    response = client.post("/api/drops", body, content_type="application/json")
    assert response.status_code == 403


def test_a_rejected_drop_leaves_the_challenge_usable(client):
    work = pow_fields(client)
    bad = client.post("/api/drops", {"text": "", **work}, content_type="application/json")
    assert bad.status_code == 400
    good = client.post("/api/drops", {"text": "ok", **work}, content_type="application/json")
    assert good.status_code == 201


def test_it_writes_a_qr_image_of_the_link_only(client):
    data = create_text(client)
    path = settings.MEDIA_ROOT / media.qr_name(data["id"])
    svg = path.read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    response = client.get(data["qr_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "no-store"
    assert response.content == svg


def test_the_qr_code_encodes_the_link():
    assert media.qr_svg("http://x/d/a") != media.qr_svg("http://x/d/b")


def test_it_rejects_get_with_json_405(client):
    response = client.get("/api/drops")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_the_new_page_offers_text_without_javascript(client):
    response = client.get("/drops/new")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="text"' in body and "csrfmiddlewaretoken" in body
    assert "Recording a voice note needs JavaScript" in body
    assert response.cookies["csrftoken"]


def test_the_no_js_form_makes_a_drop_and_shows_its_keys(client):
    client.get("/drops/new")
    response = client.post("/drops/new", {"text": SECRET_TEXT, "ttl_seconds": 30, "max_views": 2})
    assert response.status_code == 201
    body = response.content.decode()
    keys = re.findall(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}", body)
    assert len(set(keys)) == 3
    assert "no-store" in response["Cache-Control"]
    drops = redis_utils.client().keys("nb:drop:*")
    drop_key = next(k for k in drops if k.count(b":") == 2)
    assert redis_utils.client().hget(drop_key, "max_views") == b"2"


def test_the_no_js_form_shows_errors(client):
    client.get("/drops/new")
    response = client.post("/drops/new", {"text": "", "ttl_seconds": 30, "max_views": 3})
    assert response.status_code == 400
    assert b"is required" in response.content


def test_the_qr_svg_draws_exactly_the_code_matrix():
    import re

    import qrcode
    import qrcode.constants

    link = "https://nullboard.example/d/AbCdEfGhIjKlMn0_"
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=2
    )
    code.add_data(link)
    code.make(fit=True)
    expected = code.get_matrix()
    size = len(expected)
    drawn = [[False] * size for _ in range(size)]
    path = re.search(rb' d="([^"]*)"', media.qr_svg(link)).group(1).decode()
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        for dx in range(int(run)):
            drawn[int(y)][int(x) + dx] = True
    assert drawn == expected


def test_the_qr_codewords_computed_here_match_qrcodes_own():
    """After the first link of a length, the version is given and the codewords are
    computed by drops.media (not qrcode): the matrix must be qrcode's, exactly."""
    import secrets

    import qrcode
    import qrcode.constants

    for host in ("nullboard.example", "x.io", "a-much-longer-host-name.example.org:8443"):
        for _ in range(20):
            link = f"https://{host}/d/{secrets.token_urlsafe(12)}"
            media.qr_svg(link)  # the first of its length fits the version
            code = qrcode.QRCode(
                error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=2
            )
            code.add_data(link)
            code.make(fit=True)
            assert media._qr_matrix(link) == code.get_matrix(), link


def test_qr_codewords_of_links_with_other_modes_match_qrcodes_own():
    """A link with a long run of digits or capitals is encoded partly in another mode
    than bytes: its codewords come from qrcode's bit buffer, and must match too."""
    import secrets

    import qrcode
    import qrcode.constants

    for host in ("0123456789" * 3 + ".example", "NULLBOARD-EXAMPLE-ORG-MIRROR.example"):
        for _ in range(5):
            link = f"https://{host}/d/{secrets.token_urlsafe(12)}"
            media.qr_svg(link)
            code = qrcode.QRCode(
                error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=2
            )
            code.add_data(link)
            code.make(fit=True)
            assert any(d.mode != qrcode.util.MODE_8BIT_BYTE for d in code.data_list), link
            assert media._qr_matrix(link) == code.get_matrix(), link
