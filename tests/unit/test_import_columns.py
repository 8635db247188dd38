"""The bulk CSV path: a batch of rows checked column by column must store exactly what the
row-by-row path stores, and hand every batch it cannot vouch for to that path."""

from __future__ import annotations

import io

import pytest

from returns_inventory.services import import_fields as f
from returns_inventory.services.import_formats import FileFormat, Records
from returns_inventory.services.import_schemas import KINDS, SALES

CELLS = {
    f.money: ["19.90", "0.50", " 7.5 ", "12", "0012.30", "9999999999.99", "1E+2", "", "x",
              "-1.00", "1.005", "99999999999.00", "1.00\n2.00"],
    f.iso_date: ["2026-11-02", " 2026-01-31 ", "2026-02-30", "20261102", "", "soon"],
    KINDS["sales"].columns[5].parse: ["1", " 3 ", "007", "+2", "0", "-1", "two", "1_000",
                                      "3000000000", ""],
    KINDS["sales"].columns[7].parse: ["online", " Store ", "fax", ""],
    KINDS["sales"].columns[1].parse: ["SO-1", "  SO-2 ", "x" * 64, "x" * 65, "", "   "],
}


def _row_by_row(parse, cells):
    try:
        return [str(parse(cell)) for cell in cells]
    except ValueError:
        return None


@pytest.mark.parametrize("parse", list(CELLS), ids=lambda p: getattr(p, "__qualname__", "?"))
def test_a_column_batch_gives_what_the_parser_gives_or_nothing(parse):
    """Each cell alone, and all the good cells together: the batch form answers with the
    parser's values as text when they all pass, and None (row by row) when any fails."""
    batch = f.BATCH[parse]
    good = []
    for cell in CELLS[parse]:
        expected = _row_by_row(parse, [cell]) if cell.strip() else None
        assert batch([cell]) == expected, cell
        if expected is not None:
            good.append(cell)
    assert batch(good * 3) == _row_by_row(parse, good * 3)
    bad = next(c for c in CELLS[parse] if _row_by_row(parse, [c]) is None or not c.strip())
    assert batch([*good, bad]) is None


def _batches(text: str, size: int = 2):
    records = Records(io.BytesIO(text.encode()), FileFormat.CSV)
    return records.header, list(records.csv_batches(size))


def test_csv_batches_number_rows_as_iterating_does_and_keep_problem_rows_aside():
    text = ("sku,size\nA,M\n\n,\nB,L,extra\nC,S\nD,\x00\nE,XL\n")
    _, batches = _batches(text)
    assert [(b.rows, b.cells) for b in batches] == [
        ([1, 3], [["A", "M"], ["C", "S"]]), ([5], [["E", "XL"]])]
    assert [(p.row, p.field) for b in batches for p in b.problems] == [(2, "row"), (4, "size")]
    plain = [r for r in Records(io.BytesIO(text.encode()), FileFormat.CSV)]
    assert [r.row for r in plain] == [1, 2, 3, 4, 5]


def test_a_clean_sales_batch_becomes_the_staged_text_of_each_column():
    header = ["order_ref", "line_ref", "sold_on", "sku", "size", "quantity", "unit_price",
              "channel", "location"]
    cells = [["SO-1", "1", "2026-11-02", "TEE", "M", "2", "19.9", "Online", "WH1"]]
    assert SALES.parse_columns(header, cells) == [
        ["2026-11-02"], ["SO-1"], ["1"], ["TEE"], ["M"], ["2"], ["19.90"], ["online"], ["WH1"]]
    cells.append(["SO-1", "2", "2026-11-02", "TEE", "M", "two", "19.90", "online", "WH1"])
    assert SALES.parse_columns(header, cells) is None


def test_optional_columns_a_file_leaves_out_take_their_defaults_as_text():
    stock = KINDS["stock"]
    assert stock.parse_columns(["sku", "size", "location", "on_hand"],
                               [["TEE", "M", "WH1", "-3"]]) == [
        ["TEE"], ["M"], ["WH1"], ["sellable"], ["-3"]]
