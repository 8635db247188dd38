"""Reading ERP files: CSV and JSON arrays, gzip or not, row numbers an ERP engineer can find."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.services.import_formats import (
    CHUNK,
    FileFormat,
    Records,
    file_sha256,
    guess_format,
)


def _read(data: bytes, fmt: str, **options) -> tuple[list[str] | None, list]:
    records = Records(io.BytesIO(data), FileFormat(fmt), **options)
    return records.header, list(records)


def _refusal(data: bytes, fmt: str, **options) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        _read(data, fmt, **options)
    [error] = caught.value.errors
    return error.to_dict()


def test_a_csv_header_is_matched_without_regard_to_case_spaces_or_a_byte_order_mark():
    header, rows = _read(b"\xef\xbb\xbf SKU ,Size\r\nTEE,M\r\n", "csv")
    assert header == ["sku", "size"]
    assert [(r.row, r.values) for r in rows] == [(1, {"sku": "TEE", "size": "M"})]


def test_blank_csv_lines_are_not_rows_so_row_numbers_count_data_rows_only():
    _, rows = _read(b"sku,size\nA,M\n\n,\nB,L\n", "csv")
    assert [(r.row, r.values["sku"]) for r in rows] == [(1, "A"), (2, "B")]


def test_a_csv_row_with_the_wrong_number_of_fields_is_a_problem_of_that_row():
    _, rows = _read(b"sku,size\nA,M\nB,L,extra\nC,S\n", "csv")
    assert [(r.row, r.problem) for r in rows] == [
        (1, None),
        (2, "has 3 fields; the header has 2"),
        (3, None),
    ]


def test_quoted_csv_fields_may_hold_commas_and_line_breaks():
    _, rows = _read(b'sku,description\nA,"red, with\nstripes"\n', "csv")
    assert rows[0].values["description"] == "red, with\nstripes"


def test_a_json_array_yields_its_objects_and_keeps_decimals_exact():
    _, rows = _read(b'[{"sku": "A", "price": 12.10}, {"sku": "B", "quantity": 3}]', "json")
    assert rows[1].values == {"sku": "B", "quantity": 3}
    assert str(rows[0].values["price"]) == "12.10"  # a Decimal, not the float 12.1


def test_a_json_element_that_is_not_an_object_is_a_problem_of_that_row():
    _, rows = _read(b'[{"sku": "A"}, ["A", "M"], 7]', "json")
    assert [(r.row, r.problem is not None) for r in rows] == [(1, False), (2, True), (3, True)]


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("csv", b"sku,size\nA,M\n"),
        ("json", b'[{"sku": "A", "size": "M"}]'),
    ],
)
def test_gzip_is_recognised_by_its_bytes_whatever_the_caller_said(fmt, content):
    _, plain = _read(content, fmt)
    _, packed = _read(gzip.compress(content), fmt)
    _, declared = _read(gzip.compress(content), fmt, gzipped=True)
    assert [r.values for r in packed] == [r.values for r in declared] == [r.values for r in plain]


def test_a_body_declared_gzip_that_is_not_is_refused():
    error = _refusal(b"sku,size\nA,M\n", "csv", gzipped=True)
    assert "not a gzip stream" in error["reason"]


def test_a_truncated_gzip_stream_is_refused():
    error = _refusal(gzip.compress(b"sku,size\n" + b"A,M\n" * 1000)[:-20], "csv")
    assert "gzip" in error["reason"]


def test_broken_json_is_refused_naming_the_row_it_reached():
    error = _refusal(b'[{"sku": "A"}, {"sku": "B"}, {"sku": ', "json")
    assert error["field"] == "file" and error["row"] == 3
    assert "malformed JSON" in error["reason"]


@pytest.mark.parametrize("data", [b'[{"sku": "A"}] xyz', b'[{"sku": "A"}] [{"sku": "B"}]'])
def test_anything_after_the_array_is_refused(data):
    assert "trailing garbage" in _refusal(data, "json")["reason"]


@pytest.mark.parametrize("data", [b'{"sku": "A"}', b'"rows"', b"sku,size"])
def test_json_that_is_not_an_array_is_refused(data):
    assert "JSON array" in _refusal(data, "json")["reason"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_empty_file_is_refused(fmt):
    assert "empty" in _refusal(b"  \n" if fmt == "json" else b"", fmt)["reason"]


def test_a_file_that_is_not_utf8_is_refused():
    assert "UTF-8" in _refusal(b"sku,size\n\xff\xfe,M\n", "csv")["reason"]


def test_a_gzip_bomb_stops_at_the_decompressed_size_limit():
    bomb = gzip.compress(b"sku,size\n" + b"A,M\n" * 100_000)
    assert "larger than 1000 bytes" in _refusal(bomb, "csv", max_bytes=1000)["reason"]


def test_progress_is_reported_in_bytes_of_the_file_as_stored():
    data = gzip.compress(("sku,size\n" + "A,M\n" * 50_000).encode())
    seen: list[int] = []
    _read(data, "csv", on_read=seen.append)
    assert sum(seen) == len(data)


def test_a_large_json_array_streams_element_by_element():
    # Iterating lazily: the first row is available before the rest of the file is parsed.
    data = json.dumps([{"sku": f"S{i}", "size": "M"} for i in range(20_000)]).encode()
    records = iter(Records(io.BytesIO(data), FileFormat.JSON))
    assert next(records).values == {"sku": "S0", "size": "M"}
    assert sum(1 for _ in records) == 19_999


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sales.csv", (FileFormat.CSV, False)),
        ("stock.JSON", (FileFormat.JSON, False)),
        ("2026-11-23.sales.csv.gz", (FileFormat.CSV, True)),
        ("items.json.gz", (FileFormat.JSON, True)),
        ("export.txt", (None, False)),
    ],
)
def test_the_cli_takes_the_format_from_the_file_name(name, expected):
    assert guess_format(name) == expected


def test_the_file_hash_is_of_the_bytes_and_leaves_the_file_rewound():
    source = io.BytesIO(b"sku,size\nA,M\n")
    first = file_sha256(source)
    assert source.tell() == 0 and file_sha256(source) == first
    assert first != file_sha256(io.BytesIO(b"sku,size\nA,L\n"))


def test_a_number_too_long_to_be_a_value_is_refused_before_the_parser_sees_it():
    # 4,301 digits crashed the C JSON parser (and the server process with it).
    data = b'[{"sku": "A", "case_pack": ' + b"1" * 4301 + b"}]"
    error = _refusal(data, "json")
    assert error["field"] == "file" and "digits" in error["reason"]


def test_a_long_number_split_between_two_reads_is_refused_too():
    opening = b'[{"sku": "' + b"x" * (CHUNK - 40) + b'", "case_pack": '
    assert len(opening) < CHUNK < len(opening) + 4301
    assert "digits" in _refusal(opening + b"1" * 4301 + b"}]", "json")["reason"]
    # A long text value is not a number, and ordinary numbers on either side of a read pass.
    _, rows = _read(opening + b"12}, " + b'{"sku": "B", "case_pack": 6}]', "json")
    assert [r.values["case_pack"] for r in rows] == [12, 6]


def test_deeply_nested_arrays_are_a_problem_of_their_row_read_in_constant_memory():
    depth = 200_000  # the array-of-arrays form used up gigabytes before this was read flat
    data = b'[{"sku": "A"}, ' + b"[" * depth + b"]" * depth + b', {"sku": "B"}]'
    _, rows = _read(data, "json")
    assert [(r.row, r.problem is not None) for r in rows] == [(1, False), (2, True), (3, False)]
    assert rows[2].values == {"sku": "B"}


def test_a_list_or_object_given_as_a_value_is_a_problem_of_its_row_naming_the_column():
    _, rows = _read(b'[{"sku": ["A", [["M"]]], "size": "M"}, {"sku": {"x": {}}}, {"sku": "C"}]',
                    "json")
    assert ["sku" in (r.problem or "") for r in rows] == [True, True, False]
    assert rows[2].values == {"sku": "C"}
