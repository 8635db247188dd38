"""CSV answers for the API's exports: one writer, one guard against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from flask import Response, request

CSV = "text/csv"


def wants_csv(args: Mapping) -> bool:
    """CSV when `format=csv`, or when no `format` was given and the Accept header prefers it."""
    if "format" in args:
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def csv_response(rows: Iterable[Mapping], columns: Sequence[str], filename: str) -> Response:
    """The rows as a CSV attachment, a header line first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
    return Response(out.getvalue(), mimetype=CSV,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    # A text cell starting like a formula would run in a spreadsheet; quote it as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if value is None:
        return ""
    return value
