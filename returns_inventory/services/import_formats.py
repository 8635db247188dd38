"""Readers for ERP files: CSV or a JSON array, optionally gzip-compressed, always streamed.

A 100 MB file never sits in memory: CSV goes through the csv module line by line and JSON
through ijson's incremental parser, one array element at a time. One row (a CSV record, a JSON
array element) may take at most `max_row_bytes`, so a file of one endless line is refused
before it is buffered whole.
"""

from __future__ import annotations

import csv
import enum
import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, NoReturn, cast

import ijson

from ..domain.errors import FieldError, ValidationFailed
from ..domain.text import NUL_REASON, has_nul
from .import_limits import DigitGuard, Meter, RowBound, Unreadable

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1024 * 1024


class FileFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class Record:
    """One data row: `row` counts data rows from 1 (a CSV header is not a row)."""

    row: int
    values: Mapping[str, Any]
    problem: str | None = None  # the row is malformed; values are empty
    field: str = "row"  # the column the problem is in, or the row as a whole


@dataclass(frozen=True)
class CsvBatch:
    """Consecutive CSV data rows: the good ones as cell lists in header order, with their
    row numbers, and the malformed ones as Records carrying their problem."""

    rows: list[int]
    cells: list[list[str]]
    problems: list[Record]


def guess_format(path: str | PurePath) -> tuple[FileFormat | None, bool]:
    """(format, gzipped) from a file name such as sales.csv.gz; format None if unknown."""
    suffixes = [s.lower() for s in PurePath(path).suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes.pop()
    last = suffixes[-1].lstrip(".") if suffixes else ""
    return (FileFormat(last) if last in {"csv", "json"} else None), gzipped


def file_sha256(source: IO[bytes]) -> str:
    """SHA-256 of a seekable binary file, which is left rewound."""
    digest = hashlib.sha256()
    source.seek(0)
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


class Records:
    """Iterate the data rows of a file; `header` holds the CSV column names (None for JSON).

    Raises ValidationFailed (naming the row it reached) when the file itself is unreadable:
    bad gzip, not UTF-8, broken JSON, or not a JSON array.
    """

    def __init__(
        self,
        source: IO[bytes],
        fmt: FileFormat | str,
        *,
        gzipped: bool | None = None,
        max_bytes: int | None = None,
        max_row_bytes: int | None = None,
        on_read: Callable[[int], Any] | None = None,
    ):
        self.format = FileFormat(fmt)
        self.header: list[str] | None = None
        self._row = 0
        self._in_rows = False  # past the header (CSV) or the opening bracket (JSON)
        raw = io.BufferedReader(Meter(source, on_read=on_read), CHUNK)
        is_gzip = raw.peek(2)[:2] == GZIP_MAGIC
        if gzipped and not is_gzip:
            self._fail("the body is declared gzip-compressed but is not a gzip stream")
        content = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw)
        self._stream = io.BufferedReader(Meter(content, limit=max_bytes), CHUNK)
        self._bound = RowBound(self._stream, max_row_bytes)
        with self._translated():
            if self.format is FileFormat.CSV:
                self._text = io.TextIOWrapper(cast(IO[bytes], self._bound),
                                              encoding="utf-8-sig", newline="")
                self._csv = csv.reader(self._text)
                first = next(self._csv, None)
                if first is None:
                    self._fail("the file is empty: a CSV file starts with a header row")
                self._bound.row_ended()
                self.header = [name.strip().lower() for name in first]
            else:
                self._start_json_array()

    def __iter__(self) -> Iterator[Record]:
        rows = self._csv_rows() if self.format is FileFormat.CSV else self._json_rows()
        self._in_rows = True
        with self._translated():
            yield from rows

    def _csv_rows(self) -> Iterator[Record]:
        header, bound = self.header or [], self._bound  # set by __init__ for CSV
        width = len(header)
        for cells in self._csv:
            bound.row_ended()
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (or lines of bare commas) are not rows
            self._row += 1
            if len(cells) != width:
                yield Record(self._row, {}, f"has {len(cells)} fields; the header has {width}")
            elif bound.may_hold_nul and (column := _column_with_nul(header, cells)):
                yield Record(self._row, {}, NUL_REASON, column)
            else:
                yield Record(self._row, dict(zip(header, cells, strict=True)))

    def csv_batches(self, size: int) -> Iterator[CsvBatch]:
        """The CSV rows `size` at a time as bare cell lists, with the same rules as iterating
        (blank lines skipped, a wrong field count or a NUL made a problem of its row) but no
        object per row: the bulk path of a million-line file."""
        self._in_rows = True
        header, bound, width = self.header or [], self._bound, len(self.header or ())
        with self._translated():
            batch = CsvBatch([], [], [])
            for cells in self._csv:
                bound.row_ended()
                if not (cells and cells[0] and not cells[0].isspace()) and not any(
                        cell.strip() for cell in cells):
                    continue  # blank lines (or lines of bare commas) are not rows
                self._row += 1
                if len(cells) != width:
                    batch.problems.append(Record(
                        self._row, {}, f"has {len(cells)} fields; the header has {width}"))
                elif bound.may_hold_nul and (column := _column_with_nul(header, cells)):
                    batch.problems.append(Record(self._row, {}, NUL_REASON, column))
                else:
                    batch.rows.append(self._row)
                    batch.cells.append(cells)
                    if len(batch.rows) >= size:
                        yield batch
                        batch = CsvBatch([], [], [])
            if batch.rows or batch.problems:
                yield batch

    def _json_rows(self) -> Iterator[Record]:
        """The array's objects, from the parser's events rather than ijson.items: items builds
        a path string per nesting level, so a small body of nested brackets took gigabytes.
        Here a list or object where a record or a value belongs is skipped, whatever its
        depth, and made a problem of its row."""
        bound = self._bound
        events = ijson.basic_parse(DigitGuard(cast(IO[bytes], bound)), use_float=False)
        next(events)  # the opening bracket, which _start_json_array has seen
        # The row counts only once its element is read, so a parse error names the row it is in.
        for event, _ in events:
            if event == "end_array":  # the top-level array closes
                for _ in events:  # the parser refuses anything after it but whitespace
                    pass
                return
            if event != "start_map":
                if event == "start_array":
                    _skip_container(events)
                bound.row_ended()
                self._row += 1
                yield Record(self._row, {}, "expected an object of column: value pairs")
                continue
            record, nested, twice = _json_object(events)
            bound.row_ended()
            self._row += 1
            if nested:
                yield Record(self._row, {}, f"{', '.join(nested)}: a list or object where a "
                             "single value belongs")
            elif twice is not None:
                yield Record(self._row, {}, "appears more than once in this object; give each "
                             "column once", twice)
            elif bound.may_hold_nul and (key := _key_with_nul(record)) is not None:
                yield Record(self._row, {}, NUL_REASON, key)
            else:
                yield Record(self._row, record)

    def _start_json_array(self) -> None:
        if self._stream.peek(3)[:3] == b"\xef\xbb\xbf":
            self._stream.read(3)
        while (head := self._stream.peek(1)[:1]) and head.isspace():
            self._stream.read(1)
        if not head:
            self._fail("the file is empty: expected a JSON array of objects")
        if head != b"[":
            self._fail('expected a JSON array of objects, e.g. [{"sku": ...}]')

    def _fail(self, reason: str) -> NoReturn:
        row = self._row + 1 if self._in_rows else None
        where = f" (at data row {row})" if row else ""
        raise ValidationFailed(
            f"the file cannot be read{where}: {reason}",
            errors=[FieldError("file", reason, row=row)],
        )

    def _translated(self):
        return _Translate(self)


def _json_object(events) -> tuple[dict, list[str], str | None]:
    """Read one object's events: (record, keys holding a list or object, first key given twice).

    A key given twice is a problem: json.loads and ijson.items keep the last value silently,
    so the ERP would never learn that half its row was dropped."""
    record: dict[str, Any] = {}
    nested: list[str] = []
    twice = None
    for event, value in events:
        if event == "end_map":
            break
        if event == "map_key":
            key = value
            if twice is None and (key in record or key in nested):
                twice = key
        elif event in ("start_map", "start_array"):
            _skip_container(events)
            nested.append(key)
        else:
            record[key] = value
    return record, nested, twice


def _column_with_nul(header: list[str], cells: list[str]) -> str | None:
    return next((name for name, cell in zip(header, cells, strict=True) if has_nul(cell)), None)


def _key_with_nul(record: Mapping[str, Any]) -> str | None:
    return next((key for key, value in record.items()
                 if has_nul(key) or (isinstance(value, str) and has_nul(value))), None)


def _skip_container(events) -> None:
    """Consume events up to the end of the list or object just started."""
    depth = 1
    for event, _ in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


class _Translate:
    """Turn the many ways a stream can be unreadable into one ValidationFailed."""

    def __init__(self, records: Records):
        self.records = records

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, ValidationFailed | GeneratorExit):
            return False
        if isinstance(exc, Unreadable):
            reason = str(exc)
        elif isinstance(exc, gzip.BadGzipFile | zlib.error | EOFError):
            reason = f"the gzip stream is broken ({exc})"
        elif isinstance(exc, UnicodeDecodeError):
            reason = "the file is not UTF-8 text"
        elif isinstance(exc, csv.Error):
            reason = f"malformed CSV ({exc})"
        elif isinstance(exc, ijson.JSONError):
            first_line = (str(exc).strip().splitlines() or ["parse error"])[0]
            reason = f"malformed JSON ({first_line[:200]})"
        else:
            return False
        self.records._fail(reason)
