"""CSV answers for the API's exports: one writer, one guard against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from flask import Response, request

CSV = "text/csv"
# A text cell starting like a formula would run in a spreadsheet; it is quoted as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(args: Mapping) -> bool:
    """CSV when `format=csv`, or when no `format` was given and the Accept header prefers it."""
    if "format" in args:
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def csv_response(rows: Iterable[Mapping], columns: Sequence[str], filename: str) -> Response:
    """The rows as a CSV attachment, a header line first."""
    return csv_table_response(([row[column] for column in columns] for row in rows), columns,
                              filename)


def csv_table_response(rows: Iterable[Sequence], columns: Sequence[str],
                       filename: str) -> Response:
    """Rows of values in the columns' order as a CSV attachment, a header line first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    # The guard inline, not a call per cell: an export is thousands of rows of a dozen cells.
    writer.writerows([("'" + value if value[:1] in FORMULA_STARTS else value)
                      if isinstance(value, str) else value for value in row] for row in rows)
    return Response(out.getvalue(), mimetype=CSV,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

