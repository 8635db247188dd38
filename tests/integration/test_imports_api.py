"""POST /api/v1/imports/{kind}: what an ERP client sees."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select

from returns_inventory.persistence.tables import items, sales_lines
from tests.factories import add_item, add_location

ITEMS_CSV = b"sku,size,price\nTEE-BLK,M,25.00\nTEE-BLK,L,25.00\n"


def post(client, kind, data, headers, content_type="text/csv", **extra):
    return client.post(
        f"/api/v1/imports/{kind}",
        data=data,
        headers={**headers, "Content-Type": content_type, **extra},
    )


def count(db, table) -> int:
    return db.connection.scalar(select(func.count()).select_from(table))


def test_an_accepted_file_answers_201_with_its_batch_figures(client, auth, db):
    response = post(client, "items", ITEMS_CSV, auth("integrator", "erp"))
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in ("kind", "rows", "applied", "skipped", "duplicate", "actor")} == {
        "kind": "items",
        "rows": 2,
        "applied": 2,
        "skipped": 0,
        "duplicate": False,
        "actor": "token:erp",
    }
    assert isinstance(body["batch_id"], int) and len(body["sha256"]) == 64
    assert count(db, items) == 2


def test_the_same_file_sent_again_answers_200_duplicate_with_the_first_figures(client, auth, db):
    headers = auth("integrator")
    first = post(client, "items", ITEMS_CSV, headers).get_json()
    again = post(client, "items", ITEMS_CSV, headers)
    assert again.status_code == 200
    assert again.get_json() == {
        **first,
        "duplicate": True,
        "imported_at": again.get_json()["imported_at"],
    }
    assert count(db, items) == 2


def test_a_bad_file_answers_422_problem_naming_rows_and_columns(client, auth, db, uow_factory):
    add_location(uow_factory, "WH1")
    add_item(uow_factory, "TEE-BLK", "M")
    lines = [
        {
            "sold_on": "2026-11-20",
            "order_ref": "SO-1",
            "line_ref": "1",
            "sku": "TEE-BLK",
            "size": "M",
            "quantity": 1,
            "unit_price": "10.00",
            "channel": "online",
            "location": "WH1",
        },
        {
            "sold_on": "20/11/2026",
            "order_ref": "SO-1",
            "line_ref": "2",
            "sku": "TEE-BLK",
            "size": "XXL",
            "quantity": 1,
            "unit_price": "10.00",
            "channel": "online",
            "location": "WH1",
        },
    ]
    response = post(client, "sales", json.dumps(lines), auth("integrator"), "application/json")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/validation-failed") and problem["status"] == 422
    assert problem["title"] == "Validation failed" and "nothing was imported" in problem["detail"]
    assert problem["error_count"] == 1
    assert problem["errors"] == [
        {"row": 2, "field": "sold_on", "reason": "must be a date as YYYY-MM-DD, not '20/11/2026'"},
    ]
    assert count(db, sales_lines) == 0


def test_a_json_body_built_to_crash_the_parser_is_a_422_and_imports_nothing(client, auth, db):
    long_number = b'[{"sku": "TEE", "size": "M", "price": "1.00", "case_pack": ' + b"1" * 4301
    response = post(client, "items", long_number + b"}]", auth("integrator"), "application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "file"
    nested = b'[{"sku": "TEE", "size": "M", "price": "1.00"}, ' + b"[" * 100_000 + b"]" * 100_000
    response = post(client, "items", nested + b"]", auth("integrator"), "application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["row"] == 2
    assert count(db, items) == 0


def test_a_gzip_body_is_read_when_content_encoding_says_so(client, auth, db):
    response = post(
        client,
        "items",
        gzip.compress(ITEMS_CSV),
        auth("integrator"),
        **{"Content-Encoding": "gzip"},
    )
    assert response.status_code == 201 and response.get_json()["rows"] == 2


def test_an_import_may_be_larger_than_the_ordinary_request_limit(app, client, auth, db):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(max_request_bytes=64)
    data = b"sku,size\n" + b"".join(b"SKU-%d,M\n" % i for i in range(200))
    assert len(data) > 64
    response = post(client, "items", data, auth("integrator"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["rows"] == 200


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain", None),
        ("application/xml", None),
        ("text/csv", "br"),
        ("text/csv; charset=windows-1252", None),
    ],
)
def test_a_body_that_is_not_csv_or_json_is_refused_with_415(client, auth, content_type, encoding):
    extra = {"Content-Encoding": encoding} if encoding else {}
    response = post(client, "items", ITEMS_CSV, auth("integrator"), content_type, **extra)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_an_unknown_kind_answers_404_listing_the_kinds(client, auth):
    response = post(client, "customers", b"[]", auth("integrator"), "application/json")
    assert response.status_code == 404
    assert "purchase-orders" in response.get_json()["errors"][0]["reason"]


@pytest.mark.parametrize(("role", "status"), [("grader", 403), ("planner", 403), ("admin", 201)])
def test_only_integrators_and_admins_may_import(client, auth, role, status):
    assert post(client, "items", ITEMS_CSV, auth(role)).status_code == status


def test_the_openapi_document_describes_every_kind_and_its_columns(client, auth):
    spec = client.get("/api/v1/openapi.json", headers=auth("integrator")).get_json()
    operation = spec["paths"]["/api/v1/imports/{kind}"]["post"]
    [kind] = [p for p in operation["parameters"] if p.get("name") == "kind"]
    assert kind["schema"]["enum"] == ["items", "locations", "sales", "stock", "purchase-orders"]
    assert set(operation["requestBody"]["content"]) == {"text/csv", "application/json"}
    assert {"200", "201", "422"} <= set(operation["responses"])
    for column in ("order_ref", "unit_price", "expected_on", "allow_negative", "on_hand"):
        assert f"`{column}`" in operation["description"]
