"""Every /api/ path answers the one JSON error shape, never HTML or a traceback."""

from typing import Annotated

import pytest
from django.http import JsonResponse
from django.test import Client
from django.urls import include, path

from nullboard.api import api, request_data, spec_parse
from nullboard.specs import Spec, text


class Echo(Spec):
    name: Annotated[str, text(max_length=10)] = ""


@api(methods=["POST"])
def echo(request):
    return JsonResponse({"name": spec_parse(Echo, request_data(request)).name})


@api(methods=["GET"])
def explode(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/echo", echo),
    path("api/explode", explode),
    path("", include("nullboard.urls")),
]
pytestmark = pytest.mark.urls(__name__)
handler400 = "nullboard.views.bad_request"
handler404 = "nullboard.views.page_not_found"
handler500 = "nullboard.views.server_error"


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code
    assert body["detail"]


def test_unknown_api_path_is_a_json_404(client):
    assert_json_error(client.get("/api/nothing-here"), 404, "not_found")


def test_unknown_page_is_an_html_404(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert b"<html" in response.content


def test_wrong_method_is_a_json_405(client):
    response = client.get("/api/echo")
    assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_invalid_json_is_a_400(client):
    response = client.post("/api/echo", "{not json", content_type="application/json")
    assert_json_error(response, 400, "invalid_json")


def test_a_json_array_is_a_400(client):
    response = client.post("/api/echo", "[1, 2]", content_type="application/json")
    assert_json_error(response, 400, "invalid_json")


def test_wrong_types_and_nul_bytes_are_400s(client):
    response = client.post("/api/echo", {"name": 5}, content_type="application/json")
    assert_json_error(response, 400, "invalid_field")
    response = client.post("/api/echo", {"name": "a\x00b"}, content_type="application/json")
    assert_json_error(response, 400, "invalid_field")
    response = client.post("/api/echo", {}, content_type="application/json")
    assert_json_error(response, 400, "missing_field")


def test_a_body_over_the_limit_is_a_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = '{"name": "' + "x" * 4096 + '"}'
    response = client.post("/api/echo", big, content_type="application/json")
    assert_json_error(response, 413, "too_large")


def test_broken_multipart_is_a_400(client):
    response = client.post(
        "/api/echo",
        b"--nope\r\nContent-Disposition: form-data\r\n\r\nx",
        content_type="multipart/form-data; boundary=",
    )
    assert_json_error(response, 400, "bad_request")


def test_a_missing_csrf_token_is_a_json_403():
    response = Client(enforce_csrf_checks=True).post("/api/session")
    assert_json_error(response, 403, "csrf_failed")


def test_the_csrf_token_from_a_page_lets_a_write_through():
    client = Client(enforce_csrf_checks=True)
    token = client.get("/").cookies["csrftoken"].value
    assert client.post("/api/session", HTTP_X_CSRFTOKEN=token).status_code == 200


def test_a_crash_is_a_json_500_without_a_traceback(client):
    client.raise_request_exception = False
    response = client.get("/api/explode")
    assert_json_error(response, 500, "server_error")
    assert b"Traceback" not in response.content and b"boom" not in response.content


def test_a_lone_surrogate_is_a_400(client):
    response = client.post("/api/echo", '{"name": "\\ud800"}', content_type="application/json")
    assert_json_error(response, 400, "invalid_field")


def test_a_form_body_over_the_limit_is_a_413_even_when_csrf_reads_it(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # the CSRF cookie, so the middleware goes on to read the form
    response = client.post(
        "/api/echo", "name=" + "x" * 4096, content_type="application/x-www-form-urlencoded"
    )
    assert_json_error(response, 413, "too_large")
