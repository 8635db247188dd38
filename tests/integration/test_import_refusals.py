"""Import files built to slip past the checks: a key given twice, a NUL, one endless line."""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import func, select

from returns_inventory.cli import main
from returns_inventory.persistence.tables import items

ROW_LIMIT = 64 * 1024


def post(client, kind, data, headers, content_type, **extra):
    return client.post(f"/api/v1/imports/{kind}", data=data,
                       headers={**headers, "Content-Type": content_type, **extra})


def refusal(response) -> list[dict]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()["errors"]


def count_items(db) -> int:
    return db.connection.scalar(select(func.count()).select_from(items))


def test_a_json_object_with_a_key_given_twice_is_refused_naming_row_and_key(client, auth, db):
    body = b'[{"sku": "J4", "size": "S"}, {"sku": "J5", "size": "M", "size": "L"}]'
    errors = refusal(post(client, "items", body, auth("integrator"), "application/json"))
    assert [(e["row"], e["field"]) for e in errors] == [(2, "size")]
    assert "more than once" in errors[0]["reason"]
    assert count_items(db) == 0


@pytest.mark.parametrize(("body", "content_type"), [
    (b"sku,size\nTEE,M\nTEE\x00X,L\n", "text/csv"),
    (b'[{"sku": "TEE", "size": "M"}, {"sku": "TEE\\u0000X", "size": "L"}]', "application/json"),
])
def test_a_nul_in_an_import_cell_is_refused_naming_row_and_column(
        client, auth, db, body, content_type):
    errors = refusal(post(client, "items", body, auth("integrator"), content_type))
    assert [(e["row"], e["field"]) for e in errors] == [(2, "sku")]
    assert "NUL" in errors[0]["reason"]
    assert count_items(db) == 0


def test_a_gzip_body_of_one_endless_line_is_refused_at_the_row_limit(app, client, auth, db):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(
        max_import_row_bytes=ROW_LIMIT)
    body = gzip.compress(b"sku,size\nTEE,M\n" + b"x" * (8 * 1024 * 1024))
    errors = refusal(post(client, "items", body, auth("integrator"), "text/csv",
                          **{"Content-Encoding": "gzip"}))
    assert [(e["row"], e["field"]) for e in errors] == [(2, "file")]
    assert f"longer than {ROW_LIMIT} bytes" in errors[0]["reason"]
    assert count_items(db) == 0


def test_the_cli_refuses_a_row_past_the_configured_limit_too(app, db, tmp_path):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(
        max_import_row_bytes=ROW_LIMIT)
    path = tmp_path / "items.json"
    path.write_bytes(b'[{"sku": "TEE", "size": "M", "description": "' + b"x" * (2 * ROW_LIMIT)
                     + b'"}]')
    result = app.test_cli_runner().invoke(main, ["import", "items", str(path)])
    assert result.exit_code == 2, result.output
    assert f"row 1, file: a row longer than {ROW_LIMIT} bytes" in result.stderr
