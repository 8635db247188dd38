"""The suggestions table's columns: which exist, what each cell holds, and the export of
exactly the columns and rows a planner sees."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..domain.suggestion_figures import decision_figures, why_more_than_blind
from .words import in_words

PREFERENCE = "suggestions.columns"


@dataclass(frozen=True)
class TableColumn:
    key: str
    heading: str
    sort: str | None  # the list's sort key, or None where the figure comes from the terms


ALL = (
    TableColumn("sku", "SKU", "sku"),
    TableColumn("description", "Description", None),
    TableColumn("size", "Size", "size"),
    TableColumn("location", "Location", "location"),
    TableColumn("supplier", "Supplier", "supplier"),
    TableColumn("category", "Category", "category"),
    TableColumn("on_hand", "On hand", None),
    TableColumn("on_order", "On order", None),
    TableColumn("returns_back", "Returns expected back", None),
    TableColumn("forecast", "Forecast over lead time + review", None),
    TableColumn("cover_before", "Weeks of cover before", None),
    TableColumn("cover_after", "Weeks of cover after", None),
    TableColumn("lead_time", "Lead time (weeks)", None),
    TableColumn("suggested_qty", "Suggested", "suggested_qty"),
    TableColumn("approved_qty", "Planner's quantity", "approved_qty"),
    TableColumn("return_blind_qty", "Ignoring returns", "return_blind_qty"),
    TableColumn("saved_by_returns", "Saved by returns", "saved_by_returns"),
    TableColumn("value", "Value", "value"),
    TableColumn("change", "Change since last run", "change"),
    TableColumn("status", "Status", "status"),
    TableColumn("last_decision", "Last decision", "decided_at"),
)
BY_KEY = {c.key: c for c in ALL}
KEYS = tuple(BY_KEY)
DEFAULT = ("sku", "size", "location", "supplier", "on_hand", "on_order", "returns_back",
           "forecast", "cover_before", "cover_after", "lead_time", "suggested_qty",
           "approved_qty", "return_blind_qty", "saved_by_returns", "value", "change", "status",
           "last_decision")


# Columns whose cells are figures worked out from the order's terms, and what they read.
FIGURES = ("on_hand", "on_order", "returns_back", "forecast", "cover_before", "cover_after",
           "lead_time")
FIGURES_READ = ("terms", "approved_qty", "suggested_qty", "lead_time_days")
# Columns whose cells are text (every other column is a figure, a whole number or money).
TEXTS = ("sku", "description", "size", "location", "supplier", "category", "status",
         "last_decision")


def with_figures(row: dict) -> dict:
    """The row with the figures a decision needs, read from its terms."""
    return {**row, **table_figures(row), "why_more": why_more_than_blind(
        _terms(row), row["suggested_qty"], row["return_blind_qty"])}


def fields_of(keys: list[str]) -> list[str]:
    """The fields of a suggestion row the cells of these columns are made from."""
    needed: list[str] = []
    for key in keys:
        if key in FIGURES:
            needed += FIGURES_READ
        elif key == "last_decision":
            needed += ("status", "decided_by", "decided_at")
        else:
            needed.append(key)
    return list(dict.fromkeys(needed))


def _terms(row: dict) -> dict:
    terms = row.get("terms_by_name", row.get("terms"))  # one suggestion's page lists them
    return terms if isinstance(terms, dict) else {}


def table_figures(row: dict) -> dict:
    """The figures columns' values of a row, worked out from its terms."""
    order = row["approved_qty"] if row["approved_qty"] is not None else row["suggested_qty"]
    figures = decision_figures(_terms(row), order, row.get("lead_time_days"))
    return {**vars(figures), "lead_time": figures.lead_time_weeks}


def cell(row: dict, key: str):
    """The value one cell shows, as a number or text (the export writes the same)."""
    if key == "status":
        return in_words(row["status"])
    if key == "last_decision":
        if not row.get("decided_by"):
            return ""
        who = row["decided_by"].partition(":")[2] or row["decided_by"]
        return f"{in_words(row['status'])} by {who} at {row['decided_at']:%Y-%m-%d %H:%M} UTC"
    value = row.get(key)
    if isinstance(value, float):
        return round(value, 1) + 0.0  # never -0
    return value


def csv_bytes(rows: list[dict], keys: list[str]) -> bytes:
    """The table's CSV, from rows holding at least fields_of(keys) (the figures are worked
    out here, only when a column shows them)."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([BY_KEY[k].heading for k in keys])
    # What `_text_cell(cell(with_figures(row), k))` gives, cell by cell, without a call per
    # cell or a copy per row, and each cell looked at only for what its column can hold: a
    # plan is thousands of rows of ~20 cells (csv writes None as an empty cell).
    worded = [(i, k) for i, k in enumerate(keys) if k in ("status", "last_decision")]
    figures = [i for i, k in enumerate(keys) if k in FIGURES]  # floats or None
    texts = [i for i, k in enumerate(keys) if k in TEXTS]  # text or None
    figured = bool(figures)
    for row in rows:
        if figured:
            row.update(table_figures(row))
        values = [row.get(k) for k in keys]
        for i, k in worded:
            values[i] = cell(row, k)
        for i in figures:
            if values[i] is not None:
                values[i] = round(values[i], 1) + 0.0  # never -0
        for i in texts:
            if values[i] and values[i][0] in FORMULA_STARTS:
                values[i] = "'" + values[i]
        writer.writerow(values)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheets read UTF-8


def xlsx_bytes(rows: list[dict], keys: list[str], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([BY_KEY[k].heading for k in keys])
    for row in rows:
        sheet.append([_xlsx_cell(cell(row, k)) for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# A text cell starting like a formula would run in a spreadsheet; quote it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value):
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return "" if value is None else value


def _xlsx_cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and value[:1] == "=":
        return "'" + value  # openpyxl would store it as a formula
    return value
