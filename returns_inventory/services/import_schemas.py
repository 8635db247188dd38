"""What each ERP import kind contains: its columns, their rules and its external reference.

This table is the contract ERP teams code against; the API description and docs/imports.md are
written from it, so a column documented is a column checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..domain.catalogue import Channel, LocationType
from ..domain.errors import FieldError
from ..domain.grading import Disposition, Grade
from ..domain.stock import Condition
from . import import_fields as f


@dataclass(frozen=True)
class Column:
    name: str
    parse: f.Parser
    doc: str
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class ImportKind:
    """One kind of ERP file: rows of these columns, identified by `key`."""

    name: str
    summary: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the external reference; twice in one file is an error
    # Rules across columns of one row, run on rows whose columns each passed: the row's
    # values by column name in, [(column, reason)] out.
    row_rule: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def known(self) -> frozenset[str]:
        return frozenset(self.names)

    def header_errors(self, header: Iterable[str]) -> list[FieldError]:
        """Problems with a CSV header: required columns missing, unknown or repeated ones."""
        header = list(header)
        known = set(self.names)
        errors = [
            FieldError(name, "unknown column (is it misspelt?)")
            for name in header
            if name not in known
        ]
        errors += [
            FieldError(name, "column appears more than once")
            for name in sorted({n for n in header if header.count(n) > 1})
        ]
        errors += [
            FieldError(c.name, "required column is missing from the header")
            for c in self.columns
            if c.required and c.name not in header
        ]
        return errors

    def parse_row(
        self, raw: Mapping[str, Any], *, check_unknown: bool = True
    ) -> tuple[tuple | None, list[tuple[str, str]]]:
        """(values in column order, []) for a good row; (None, [(column, reason)]) otherwise.

        CSV rows share one header, checked once by header_errors, so they skip the unknown
        column check; every JSON object brings its own keys and is checked.
        """
        values: list[Any] = []
        errors: list[tuple[str, str]] = []
        for column in self.columns:
            value = raw.get(column.name)
            if value is None or value == "" or (isinstance(value, str) and not value.strip()):
                if column.required:
                    errors.append((column.name, "required"))
                values.append(column.default)
                continue
            try:
                values.append(column.parse(value))
            except ValueError as exc:
                errors.append((column.name, str(exc)))
        if check_unknown and not raw.keys() <= self.known:
            errors += [(str(name), "unknown column") for name in raw if name not in self.known]
        if not errors and self.row_rule:
            errors = self.row_rule(dict(zip(self.names, values, strict=True)))
        return (None, errors) if errors else (tuple(values), [])

    def parse_columns(self, header: list[str], cells: list[list[str]]
                      ) -> list[list[str | None]] | None:
        """A batch of CSV rows (cells in `header` order) column by column, as the text the
        staging table reads (None: NULL); None if any cell needs parse_row to be named
        (missing, invalid), or the kind has a rule across columns."""
        if self.row_rule is not None:
            return None
        at = {name: i for i, name in enumerate(header)}
        by_column = list(zip(*cells, strict=True))
        out: list[list[str | None]] = []
        for column in self.columns:
            batch = f.BATCH.get(column.parse)
            if batch is None:
                return None
            if column.name not in at:  # an optional column the file leaves out
                out.append([None if column.default is None else str(column.default)]
                           * len(cells))
                continue
            texts = batch(list(by_column[at[column.name]]))
            if texts is None:
                return None
            out.append(list(texts))
        return out

    def describe(self) -> str:
        """Markdown table of the columns, for the OpenAPI description and docs/imports.md."""
        lines = ["| column | required | meaning |", "| --- | --- | --- |"]
        for c in self.columns:
            needed = "yes" if c.required else f"no, default {_shown(c.default)}"
            lines.append(f"| `{c.name}` | {needed} | {c.doc} |")
        return "\n".join(lines)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


_sku = Column("sku", f.text(64), "style-colour SKU")
_size = Column("size", f.text(32), "size; `sku` + `size` name one existing item")
_location = Column("location", f.text(32), "location code (must exist)")

ITEMS = ImportKind(
    "items",
    "Item master data, upserted by (`sku`, `size`). Each row states the whole item: an "
    "optional column left empty resets that field to its default.",
    (
        Column("sku", f.text(64), "style-colour SKU"),
        Column("size", f.text(32), "size, e.g. `M` or `42`"),
        Column(
            "gtin",
            f.gtin,
            "GS1 barcode (8/12/13/14 digits, check digit verified), unique across items",
            required=False,
        ),
        Column("category", f.text(64), "merchandise category", False, "uncategorised"),
        Column("description", f.text(255), "description", False, ""),
        Column("unit_cost", f.money, "cost per unit, 2 decimals", False, f.money("0")),
        Column("price", f.money, "selling price, 2 decimals", False, f.money("0")),
        Column("supplier", f.text(64), "supplier code", required=False),
        Column("lead_time_days", f.whole_number(0, 3650), "supplier lead time in days", False, 14),
        Column("case_pack", f.whole_number(1, 100_000), "units per case", False, 1),
        Column("min_order_qty", f.whole_number(0), "minimum order quantity", False, 1),
        Column(
            "launched_on",
            f.iso_date,
            "launch date, `YYYY-MM-DD` (past or planned); empty: the first sale's week counts. "
            "New items are forecast from their category's post-launch profile",
            required=False,
        ),
        Column("factory", f.text(64), "factory that made it; quality scorecards group by it",
               required=False),
        Column("season", f.text(32), "season it was bought for, e.g. `AW26`", required=False),
        Column("fabric", f.text(64), "main fabric or material, e.g. `cotton jersey`",
               required=False),
        Column(
            "image_url",
            f.image_url,
            "a picture of the item for the grading bench: a path on this site (`/...`) or an "
            "http(s) URL; shown only from this site or a host config/grading.toml allows",
            required=False,
        ),
    ),
    ("sku", "size"),
)

LOCATIONS = ImportKind(
    "locations",
    "Warehouses and stores, upserted by `code`.",
    (
        Column("code", f.text(32), "location code, the external reference"),
        Column("name", f.text(128), "name people read"),
        Column("type", f.one_of(t.value for t in LocationType), "`warehouse` or `store`"),
        Column(
            "allow_negative",
            f.yes_no,
            "may on-hand stock go below zero here (`true`/`false`)",
            False,
            False,
        ),
    ),
    ("code",),
)

SALES = ImportKind(
    "sales",
    "Sales history for forecasting and returns, keyed by (`order_ref`, `line_ref`). Sales "
    "lines do NOT move stock. A line already imported is skipped and counted, never changed.",
    (
        Column("sold_on", f.iso_date, "date of sale, `YYYY-MM-DD`"),
        Column("order_ref", f.text(64), "ERP order number"),
        Column(
            "line_ref", f.text(64), "line within the order; with `order_ref` the external reference"
        ),
        _sku,
        _size,
        Column("quantity", f.whole_number(1), "units sold, at least 1"),
        Column("unit_price", f.money, "price paid per unit, 2 decimals"),
        Column("channel", f.one_of(c.value for c in Channel), "`online` or `store`"),
        Column(
            "location", f.text(32), "code of the store or warehouse that fulfilled it (must exist)"
        ),
    ),
    ("order_ref", "line_ref"),
)

STOCK = ImportKind(
    "stock",
    "A stock snapshot: sets on-hand balances through ledger movements of type `snapshot`. "
    "Balances not named in the file are left untouched; a balance already at the figure "
    "gets no movement. Reserved units are kept; on hand may not fall below them.",
    (
        _sku,
        _size,
        _location,
        Column(
            "condition",
            f.one_of(c.value for c in Condition),
            "`sellable`, `second_quality`, `repair` or `quarantine`",
            False,
            Condition.SELLABLE.value,
        ),
        Column("on_hand", f.whole_number(), "units on hand to set"),
    ),
    ("sku", "size", "location", "condition"),
)

PURCHASE_ORDERS = ImportKind(
    "purchase-orders",
    "Open purchase-order lines with expected dates, upserted by (`po_ref`, `line_ref`).",
    (
        Column("po_ref", f.text(64), "purchase order number"),
        Column("line_ref", f.text(64), "line within the PO; with `po_ref` the external reference"),
        _sku,
        _size,
        Column("location", f.text(32), "receiving location code (must exist)"),
        Column("quantity", f.whole_number(1), "units ordered, at least 1"),
        Column("expected_on", f.iso_date, "expected delivery date, `YYYY-MM-DD`"),
        Column("received_quantity", f.whole_number(0), "units already received, at most `quantity`",
               False, 0),
        Column(
            "status",
            f.one_of(("open", "closed", "cancelled")),
            "`open`, `closed` or `cancelled`",
            False,
            "open",
        ),
    ),
    ("po_ref", "line_ref"),
    # More received than ordered would count as negative stock on order, and the nightly
    # run would order that much more.
    row_rule=lambda row: (
        [("received_quantity", f"must be at most quantity ({row['quantity']})")]
        if row["received_quantity"] > row["quantity"] else []
    ),
)



def _grade(value: Any) -> str:
    grade = f.as_text(value).upper()
    if grade not in {g.value for g in Grade}:
        raise ValueError(f"must be one of {', '.join(g.value for g in Grade)}")
    return grade


def _sale_named(row: dict[str, Any]) -> list[tuple[str, str]]:
    """A returned line names its sale by order line, or by item (and date) without one."""
    errors = []
    for given, missing in (("order_ref", "line_ref"), ("line_ref", "order_ref"),
                           ("sku", "size"), ("size", "sku")):
        if row[given] is not None and row[missing] is None:
            errors.append((missing, f"required with {given}"))
    if not errors and row["order_ref"] is None and row["sku"] is None:
        errors.append(("order_ref", "give order_ref and line_ref of the sale, or its sku and "
                       "size where the ERP has no line reference"))
    if row["sold_on"] is not None and row["sold_on"] > row["returned_on"]:
        errors.append(("sold_on", "is after returned_on"))
    return errors


RETURNS = ImportKind(
    "returns",
    "Historical returns, one row per returned sales line, keyed by (`return_ref`, "
    "`return_line_ref`). They feed returns analytics and forecasting like returns made in "
    "the service, marked as imported, and do NOT move stock. A line already imported is "
    "skipped and counted, never changed.",
    (
        Column("return_ref", f.text(64), "ERP return or credit-note number"),
        Column("return_line_ref", f.text(64),
               "line within the return; with `return_ref` the external reference"),
        Column("returned_on", f.iso_date, "date of the return, `YYYY-MM-DD`"),
        Column("quantity", f.whole_number(1), "units returned, at least 1; with `order_ref` "
               "at most what the sales line sold, less what was returned of it before"),
        Column("reason", f.text(64), "the ERP's reason code, mapped to ours by "
               "`config/returns_policy.toml` `[erp_reasons]` (our own codes are taken as they "
               "are)"),
        Column("order_ref", f.text(64), "the sale's ERP order number (with `line_ref`)",
               required=False),
        Column("line_ref", f.text(64), "the sale's line within the order (must exist)",
               required=False),
        Column("sku", f.text(64), "SKU sold, where the ERP has no line reference; with a "
               "line reference it must be the line's", required=False),
        Column("size", f.text(32), "size sold (with `sku`)", required=False),
        Column("customer", f.text(64), "the ERP's customer number, kept for reference",
               required=False),
        Column("sold_on", f.iso_date, "date of the sale without a line reference, "
               "`YYYY-MM-DD`; empty: unknown (the return counts as sold on its return date)",
               required=False),
        Column("received_on", f.iso_date, "outcome: when the units arrived, `YYYY-MM-DD`; "
               "empty: the return date", required=False),
        Column("grade", _grade, "outcome: the grade given, `A`-`D`", required=False),
        Column("disposition", f.one_of(d.value for d in Disposition), "outcome: where the "
               "units went; empty with a grade: the grade's disposition by the grading policy",
               required=False),
    ),
    ("return_ref", "return_line_ref"),
    row_rule=_sale_named,
)

KINDS: dict[str, ImportKind] = {
    k.name: k for k in (ITEMS, LOCATIONS, SALES, STOCK, PURCHASE_ORDERS, RETURNS)
}
