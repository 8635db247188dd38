"""`returns-inventory import KIND FILE` on the test database."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select

from returns_inventory.cli import main
from returns_inventory.persistence.tables import import_batches, locations, stock_balances
from tests.factories import add_item, add_location


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(main, list(args))

    return invoke


def count(db, table) -> int:
    return db.connection.scalar(select(func.count()).select_from(table))


def test_a_gzipped_csv_is_imported_and_a_second_run_changes_nothing(run, db, tmp_path):
    path = tmp_path / "locations.csv.gz"
    path.write_bytes(gzip.compress(b"code,name,type\nWH1,Main,warehouse\nST1,Mall,store\n"))
    first = run("import", "locations", str(path))
    assert first.exit_code == 0, first.output
    assert "2 rows, 2 applied, 0 skipped" in first.stdout
    again = run("import", "locations", str(path))
    assert again.exit_code == 0 and "already imported" in again.stdout
    assert count(db, locations) == 2 and count(db, import_batches) == 1


def test_the_cli_records_who_ran_it(run, db, tmp_path):
    path = tmp_path / "locations.json"
    path.write_text(json.dumps([{"code": "WH1", "name": "Main", "type": "warehouse"}]))
    assert run("import", "locations", str(path)).exit_code == 0
    assert db.connection.scalar(select(import_batches.c.actor)).startswith("cli:")


def test_a_bad_file_exits_non_zero_naming_each_bad_row_and_writes_nothing(
    run, db, tmp_path, uow_factory
):
    add_location(uow_factory, "WH1")
    add_item(uow_factory, "TEE-BLK", "M")
    path = tmp_path / "snapshot.csv"
    path.write_text(
        "sku,size,location,on_hand\nTEE-BLK,M,WH1,5\nTEE-BLK,XL,WH1,2\nTEE-BLK,M,WH9,lots\n"
    )
    result = run("import", "stock", str(path))
    assert result.exit_code == 2
    assert "row 2, sku: no item TEE-BLK in size XL" in result.stderr
    assert "row 3, on_hand: must be a whole number, not 'lots'" in result.stderr
    assert count(db, stock_balances) == 0 and count(db, import_batches) == 0


def test_the_format_comes_from_the_name_or_from_format(run, db, tmp_path):
    path = tmp_path / "export.dat"
    path.write_text("code,name,type\nWH1,Main,warehouse\n")
    refused = run("import", "locations", str(path))
    assert refused.exit_code == 2 and "--format" in refused.stderr
    assert run("import", "locations", str(path), "--format", "csv").exit_code == 0
    assert count(db, locations) == 1


def test_historical_returns_are_imported_from_a_file_with_the_erps_reason_codes(
    run, db, tmp_path, uow_factory
):
    from datetime import date

    from returns_inventory.persistence.returns_tables import imported_returns
    from tests.factories import add_sale

    wh = add_location(uow_factory, "WH1")
    add_sale(uow_factory, add_item(uow_factory, "TEE-BLK", "M"), wh, order_ref="SO-7",
             line_ref="1", quantity=3, sold_on=date(2026, 11, 2))
    path = tmp_path / "returns.csv"
    path.write_text("return_ref,return_line_ref,returned_on,quantity,reason,order_ref,line_ref\n"
                    "CN-1,1,2026-11-09,2,02,SO-7,1\nCN-1,2,2026-11-09,1,zz,SO-7,1\n")
    refused = run("import", "returns", str(path))
    assert refused.exit_code == 2
    assert "row 2, reason: unknown reason code 'zz'" in refused.stderr
    path.write_text("return_ref,return_line_ref,returned_on,quantity,reason,order_ref,line_ref\n"
                    "CN-1,1,2026-11-09,2,02,SO-7,1\n")
    result = run("import", "returns", str(path))
    assert result.exit_code == 0, result.output
    assert "returns: imported batch" in result.stdout and "1 applied" in result.stdout
    assert db.connection.execute(
        select(imported_returns.c.reason, imported_returns.c.quantity)).all() == [("too_large", 2)]
