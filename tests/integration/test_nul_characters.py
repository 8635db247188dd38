"""A NUL character, wherever a request carries it, is a client error naming where it is.

PostgreSQL text cannot hold U+0000: before the check, each of these reached a query and
answered 500 there (SQLite stored it, or answered as if the text were ordinary).
"""

from __future__ import annotations

import io

import pytest

from tests.integration.web_support import PASSWORD, hidden, log_in

ADJUSTMENT = {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": 1, "reason": "count"}


def _fields(response, status=422) -> list[str]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert "NUL" in body["errors"][0]["reason"]
    return [e["field"] for e in body["errors"]]


def test_a_nul_in_a_query_argument_is_a_422_naming_it(client, auth):
    assert _fields(client.get("/api/v1/items?sku=a%00b", headers=auth())) == ["sku"]


def test_a_nul_in_a_json_string_is_a_422_naming_it(client, auth):
    response = client.post("/api/v1/stock/adjustments", headers=auth("planner"),
                           json={**ADJUSTMENT, "sku": "TEE\x00BLK"})
    assert _fields(response) == ["sku"]


def test_a_nul_deep_in_a_json_body_is_named_by_its_path(client, auth):
    response = client.post("/api/v1/units/grades", headers=auth("grader"), json={
        "grades": [{"unit_id": "U-1", "grade": "A"}, {"unit_id": "U-\x002", "grade": "A"}]})
    assert _fields(response) == ["grades.1.unit_id"]


def test_a_nul_in_a_path_segment_is_a_422_naming_it(client, auth):
    assert _fields(client.get("/api/v1/returns/RMA%00X", headers=auth())) == ["rma"]


def test_a_nul_in_a_header_is_a_422_naming_it(client, auth):
    response = client.post("/api/v1/stock/adjustments", json=ADJUSTMENT,
                           headers={**auth("planner"), "Idempotency-Key": "key\x00one"})
    assert _fields(response) == ["Idempotency-Key"]


def test_a_nul_in_an_uploaded_file_name_is_a_422_naming_the_field(client, auth):
    response = client.post("/api/v1/units/U-1/photos", headers=auth("grader"), data={
        "photo": (io.BytesIO(b"\x89PNG"), "front\x00.png", "image/png")})
    assert _fields(response) == ["photo"]


def test_the_caller_is_known_before_a_nul_is_judged(client):
    response = client.get("/api/v1/items?sku=a%00b")
    assert response.status_code == 401


def test_a_nul_in_the_login_form_is_a_400_page_in_words(client, uow_factory):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "username": "grader\x001", "password": PASSWORD, "csrf_token": hidden(page, "csrf_token")})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "username" in text and "NUL character" in text


@pytest.mark.parametrize("code", ["RMA%00X", "%00"])
def test_a_nul_typed_into_the_station_scan_box_is_a_400_page(client, uow_factory, code):
    log_in(client, uow_factory, "grader")
    response = client.get(f"/station?code={code}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "code" in response.get_data(as_text=True)


def test_text_without_a_nul_is_untouched(client, auth):
    # The escape for a backslash followed by u0000 is text, not a NUL.
    response = client.post("/api/v1/stock/adjustments", headers=auth("planner"),
                           json={**ADJUSTMENT, "reason": "\\u0000"})
    assert response.status_code == 404  # no such item: the body reached the service
