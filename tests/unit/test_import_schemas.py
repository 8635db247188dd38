"""Row rules of each import kind: typed values for good rows, a reason per bad column."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from returns_inventory.persistence.repositories.import_staging import STAGED
from returns_inventory.services import import_fields as fields
from returns_inventory.services.import_schemas import KINDS

SALE = {
    "sold_on": "2026-11-20",
    "order_ref": "SO-1001",
    "line_ref": "1",
    "sku": "TEE-BLK",
    "size": "M",
    "quantity": "2",
    "unit_price": "19.90",
    "channel": "online",
    "location": "WH1",
}


def test_a_good_sales_row_becomes_typed_values_in_column_order():
    values, errors = KINDS["sales"].parse_row(SALE)
    assert errors == []
    assert values == (
        date(2026, 11, 20),
        "SO-1001",
        "1",
        "TEE-BLK",
        "M",
        2,
        Decimal("19.90"),
        "online",
        "WH1",
    )


def test_json_numbers_are_accepted_where_erps_send_them():
    row = {**SALE, "line_ref": 1, "quantity": 2, "unit_price": Decimal("19.9"), "channel": "Store"}
    values, errors = KINDS["sales"].parse_row(row)
    assert errors == []
    assert (values[2], values[5], values[6], values[7]) == ("1", 2, Decimal("19.90"), "store")


def test_every_bad_column_of_a_row_is_named_with_its_reason():
    row = {
        **SALE,
        "sold_on": "2026-02-30",
        "order_ref": " ",
        "quantity": "0",
        "unit_price": "1.999",
        "channel": "web",
    }
    values, errors = KINDS["sales"].parse_row(row)
    assert values is None
    assert dict(errors) == {
        "sold_on": "'2026-02-30' is not a calendar date",
        "order_ref": "required",
        "quantity": "must be at least 1",
        "unit_price": "at most 2 decimal places",
        "channel": "must be one of online, store",
    }


def test_an_unknown_json_key_is_an_error_so_a_misspelt_column_is_never_ignored():
    _, errors = KINDS["sales"].parse_row({**SALE, "qty": 3})
    assert errors == [("qty", "unknown column")]


def test_csv_rows_leave_the_unknown_column_check_to_the_header():
    _, errors = KINDS["sales"].parse_row({**SALE, "qty": "3"}, check_unknown=False)
    assert errors == []


def test_optional_item_columns_left_empty_take_their_defaults():
    values, errors = KINDS["items"].parse_row({"sku": "TEE", "size": "M", "supplier": ""})
    assert errors == []
    item = dict(zip(KINDS["items"].names, values, strict=True))
    assert item["gtin"] is None and item["supplier"] is None
    assert (item["category"], item["lead_time_days"], item["case_pack"]) == ("uncategorised", 14, 1)


def test_a_stock_row_without_condition_counts_sellable_stock():
    values, _ = KINDS["stock"].parse_row(
        {"sku": "A", "size": "M", "location": "WH1", "on_hand": "-3"}
    )
    assert values == ("A", "M", "WH1", "sellable", -3)


def test_a_csv_header_must_name_every_required_column_once_and_nothing_unknown():
    errors = KINDS["locations"].header_errors(["code", "name", "kind", "name"])
    assert {(e.field, e.reason) for e in errors} == {
        ("kind", "unknown column (is it misspelt?)"),
        ("name", "column appears more than once"),
        ("type", "required column is missing from the header"),
    }
    assert KINDS["locations"].header_errors(["type", "code", "name"]) == []


@pytest.mark.parametrize(
    ("parse", "value", "reason"),
    [
        (fields.iso_date, "20261120", "must be a date as YYYY-MM-DD"),
        (fields.money, "-1", "must not be negative"),
        (fields.money, "NaN", "must be a finite amount"),
        (fields.money, "12,50", "must be a decimal amount"),
        (fields.whole_number(), "3.0", "must be a whole number"),
        (fields.whole_number(), True, "must be a whole number"),
        (fields.whole_number(), "3000000000", "must be at most"),
        (fields.gtin, "4006381333932", "check digit does not match"),
        (fields.gtin, "40063813339", "must be 8, 12, 13 or 14 digits"),
        (fields.yes_no, "maybe", "must be true or false"),
        (fields.text(4), "ABCDE", "at most 4 characters"),
        (fields.text(4), {"nested": 1}, "must be text"),
    ],
)
def test_field_parsers_refuse_what_the_database_or_warehouse_cannot_use(parse, value, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse(value)


def test_a_valid_gtin_passes_its_check_digit():
    assert fields.gtin("4006381333931") == "4006381333931"
    assert fields.gtin("96385074") == "96385074"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_staging_table_has_the_kinds_columns_in_order(kind):
    staged = [c.name for c in STAGED[kind].columns]
    assert staged == ["row_no", *KINDS[kind].names]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_imports_doc_documents_every_column_of_every_kind(kind):
    doc = (Path(__file__).parents[2] / "docs/imports.md").read_text()
    section = doc.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
    for name in KINDS[kind].names:
        assert f"| `{name}` |" in section, f"{kind}.{name} is not documented"


def test_a_purchase_order_line_cannot_have_received_more_than_was_ordered():
    kind = KINDS["purchase-orders"]
    line = {"po_ref": "P1", "line_ref": "1", "sku": "TEE", "size": "M", "location": "WH1",
            "quantity": "5", "expected_on": "2026-12-01"}
    assert kind.parse_row({**line, "received_quantity": "5"})[1] == []
    values, errors = kind.parse_row({**line, "received_quantity": "9"})
    assert values is None
    assert errors == [("received_quantity", "must be at most quantity (5)")]
