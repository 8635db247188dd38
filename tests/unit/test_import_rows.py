"""What one row of an import file may hold: a bounded length, each key once, no NUL."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.services.import_formats import CHUNK, FileFormat, Records
from returns_inventory.services.import_limits import RowBound

LIMIT = 64 * 1024


class EndlessLine(io.RawIOBase):
    """A file whose second line never ends (`size` bytes of it), counting what is read."""

    def __init__(self, opening: bytes, size: int):
        self.opening, self.left, self.served = opening, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.opening:
            data, self.opening = self.opening[: len(buffer)], self.opening[len(buffer):]
        else:
            data = b"x" * min(len(buffer), self.left)
            self.left -= len(data)
        buffer[: len(data)] = data
        self.served += len(data)
        return len(data)


def _rows(data: bytes, fmt: str, **options) -> list:
    return list(Records(io.BytesIO(data), FileFormat(fmt), **options))


def _refusal(source, fmt: str, **options):
    with pytest.raises(ValidationFailed) as caught:
        list(Records(source, FileFormat(fmt), **options))
    [error] = caught.value.errors
    return error


@pytest.mark.parametrize(("fmt", "opening"), [
    ("csv", b"sku,size\nA,M\nB,"),
    ("json", b'[{"sku": "A", "size": "M"}, {"sku": "B", "size": "'),
])
def test_a_row_that_never_ends_is_refused_before_it_is_read_whole(fmt, opening):
    source = EndlessLine(opening, 64 * CHUNK)
    error = _refusal(source, fmt, max_row_bytes=LIMIT)
    assert error.row == 2
    assert f"longer than {LIMIT} bytes" in error.reason
    # What was read is the limit and the readers' buffers, not the 64 MiB line.
    assert source.served < LIMIT + 3 * CHUNK


def test_a_gzip_file_of_one_line_stops_at_the_row_limit_not_the_file_size():
    data = gzip.compress(b"sku,size\n" + b"x" * (32 * CHUNK))
    error = _refusal(io.BytesIO(data), "csv", max_row_bytes=LIMIT, max_bytes=64 * CHUNK)
    assert error.row == 1 and "longer than" in error.reason


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_rows_just_under_the_limit_all_pass_however_many(fmt):
    # Read-ahead must not be counted against the row that follows it.
    long = "y" * (LIMIT - 100)
    if fmt == "csv":
        data = ("sku,size\n" + "".join(f"{long},{i}\n" for i in range(40))).encode()
    else:
        data = json.dumps([{"sku": long, "size": str(i)} for i in range(40)]).encode()
    rows = _rows(data, fmt, max_row_bytes=LIMIT)
    assert [r.values["size"] for r in rows] == [str(i) for i in range(40)]
    assert all(r.problem is None for r in rows)


def test_a_json_key_given_twice_in_an_object_is_a_problem_naming_the_row_and_key():
    rows = _rows(b'[{"sku": "J4", "size": "S"}, {"sku": "J5", "size": "M", "size": "L"}]',
                 "json")
    assert rows[0].problem is None
    assert (rows[1].row, rows[1].field) == (2, "size")
    assert "more than once" in rows[1].problem
    assert rows[1].values == {}


@pytest.mark.parametrize("data", [
    b'[{"sku": "A", "size": "M"}, {"sku": "B\\u0000", "size": "M"}]',
    b'[{"sku": "A", "size": "M"}, {"size": "M", "sku": "\\u0000"}]',
])
def test_a_nul_in_a_json_value_is_a_problem_naming_the_row_and_column(data):
    rows = _rows(data, "json")
    assert rows[0].problem is None
    assert (rows[1].row, rows[1].field) == (2, "sku")
    assert "NUL" in rows[1].problem


def test_a_nul_in_a_json_key_is_a_problem_of_its_row():
    [row] = _rows(b'[{"sku": "A", "si\\u0000ze": "M"}]', "json")
    assert row.field == "si\x00ze" and "NUL" in row.problem


def test_a_nul_in_a_csv_cell_is_a_problem_naming_the_row_and_column():
    rows = _rows(b"sku,size\nA,M\nB,M\x00L\nC,S\n", "csv")
    assert [(r.row, r.field, r.problem is not None) for r in rows] == [
        (1, "row", False), (2, "size", True), (3, "row", False)]
    assert "NUL" in rows[1].problem


@pytest.mark.parametrize("size", [1, 3, 4, 5, 7])
def test_a_nul_escape_split_between_two_reads_is_still_noticed(size):
    # Rows are searched for a NUL only when the stream may hold one: missing the escape
    # here would let a NUL through to the database.
    bound = RowBound(io.BytesIO(b'[{"sku": "ab\\u0000"}]'), None)
    while bound.read(size):
        pass
    assert bound.may_hold_nul
