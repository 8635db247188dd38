"""The UCI Online Retail transactions (gzip CSV, as an ERP would export them) as demo data.

Each StockCode becomes a one-size item (size ONE, category homeware); invoice lines become
sales through the import service; every `C` (credit note) line becomes
imported return history through the returns import, matched to the same customer's latest
earlier purchase of that StockCode where it can be, else kept by StockCode and date.

The files are streamed twice (items first, then sales and credit notes); only the item list,
the invoice numbers and the credit-note rows (some 20,000) are held in memory.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from ..persistence.uow import UowFactory
from .load import LoadReport, guarded_load
from .replay import import_csv

ACTOR = "demo:online-retail"
WAREHOUSE = "WH1"
SIZE, CATEGORY, REASON = "ONE", "homeware", "other"
MERCHANDISE = re.compile(r"^\d{5}")  # POST, DOT, M, BANK CHARGES... are not goods
CENT = Decimal("0.01")
ITEM_COLUMNS = ("sku", "size", "category", "description", "unit_cost", "price")
SALES_COLUMNS = ("sold_on", "order_ref", "line_ref", "sku", "size", "quantity", "unit_price",
                 "channel", "location")
RETURN_COLUMNS = ("return_ref", "return_line_ref", "returned_on", "quantity", "reason",
                  "order_ref", "line_ref", "sku", "size", "customer")


@dataclass
class _Row:
    invoice: str
    line: int  # position within its invoice, counted the same way in both passes
    code: str
    description: str
    quantity: int
    at: datetime
    price: Decimal
    customer: str

    @property
    def is_return(self) -> bool:
        return self.invoice.startswith("C")


def read_rows(path: Path, skip_invoices: set[str] | frozenset = frozenset()) -> Iterator[_Row]:
    """Stream one file's usable rows; invoices already read from an earlier file are skipped
    (the published files overlap by nine days)."""
    counters: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        for raw in csv.DictReader(text):
            invoice = (raw.get("InvoiceNo") or raw.get("Invoice") or "").strip()
            if not invoice or invoice in skip_invoices or invoice.startswith("A"):
                continue
            code = (raw.get("StockCode") or "").strip()
            try:
                quantity = int(raw["Quantity"])
                price = Decimal(raw.get("UnitPrice") or raw.get("Price") or "0")
                at = datetime.fromisoformat(raw["InvoiceDate"].strip()).replace(tzinfo=UTC)
            except (ValueError, InvalidOperation, KeyError):
                continue
            counters[invoice] = line = counters.get(invoice, 0) + 1
            if not MERCHANDISE.match(code) or price < 0:
                continue
            if quantity == 0 or (quantity < 0 and not invoice.startswith("C")):
                continue  # stock adjustments and damages, not sales or customer returns
            customer = (raw.get("CustomerID") or raw.get("Customer ID") or "").strip()
            yield _Row(invoice, line, code, (raw.get("Description") or "").strip(), quantity,
                       at, price, customer.removesuffix(".0"))


@dataclass
class _Scan:
    items: dict[str, list]  # code -> [description, last positive price]
    invoices: list[set[str]]  # per file: the invoices it contributes
    returns: list[_Row]  # C lines with a customer, in date order
    last_day: date


def _scan(files: list[Path]) -> _Scan:
    items: dict[str, list] = {}
    invoices: list[set[str]] = []
    seen: set[str] = set()
    returns: list[_Row] = []
    last = date.min
    for path in files:
        mine: set[str] = set()
        for row in read_rows(path, seen):
            mine.add(row.invoice)
            item = items.setdefault(row.code, [row.description, Decimal(0)])
            if not item[0] and row.description:
                item[0] = row.description
            if row.is_return:
                if row.customer:
                    returns.append(row)  # whose purchases the second pass tracks
            elif row.price > 0:
                item[1] = row.price
            last = max(last, row.at.date())
        invoices.append(mine)
        seen |= mine
    returns.sort(key=lambda r: r.at)
    return _Scan(items, invoices, returns, last)


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


class _CreditNotes:
    """Every C line as rows of a returns import, read in date order beside the sales.

    A line is matched to the same customer's latest earlier purchase of the code, for at
    most what that purchase has not returned yet; the rest (and lines without a customer or
    a purchase) stays history of the code on its own date, its sale unknown."""

    def __init__(self, pairs: set[tuple[str, str]]):
        self.pairs = pairs  # (customer, code) that return something: the purchases to track
        self.latest: dict[tuple[str, str], list] = {}  # -> [invoice, line, left, day]
        self.rows: list[tuple] = []
        self.lines = self.units = self.matched = self.matched_units = 0
        self.unmatched = self.unmatched_units = 0

    def bought(self, row: _Row) -> None:
        if (row.customer, row.code) in self.pairs:
            self.latest[(row.customer, row.code)] = [row.invoice, str(row.line), row.quantity,
                                                     row.at.date()]

    def add(self, row: _Row) -> None:
        units, day = -row.quantity, row.at.date().isoformat()
        self.lines += 1
        self.units += units
        bought = self.latest.get((row.customer, row.code)) if row.customer else None
        earlier = bought is not None and bought[3] <= row.at.date()
        matched = min(units, bought[2]) if earlier else 0
        if matched:
            bought[2] -= matched
            self.matched += 1
            self.matched_units += matched
            self.rows.append((row.invoice, str(row.line), day, matched, REASON, bought[0],
                              bought[1], "", "", row.customer))
        if units > matched:
            self.unmatched += 1
            self.unmatched_units += units - matched
            # The unmatched rest of a partly matched line is a line of its own.
            ref = f"{row.line}-rest" if matched else str(row.line)
            self.rows.append((row.invoice, ref, day, units - matched, REASON, "", "",
                              row.code, SIZE, row.customer))


def load_online_retail(uow_factory: UowFactory, settings, policies, files: list[Path], *,
                       say: Callable[[str], None] = lambda _m: None) -> LoadReport:
    """Load the Online Retail files into an empty database and forecast once, as of the day
    after the last invoice."""
    files = [Path(f) for f in files]
    fingerprint = hashlib.sha256("|".join(
        f"{f.name}:{f.stat().st_size}" for f in files).encode()).hexdigest()
    scan_box: dict[str, _Scan] = {}

    def load(report: LoadReport) -> int:
        say(f"reading {', '.join(f.name for f in files)} (first pass: items)")
        scan = scan_box["scan"] = _scan(files)
        batch = settings.import_batch_size
        import_csv(uow_factory, "locations", ("code", "name", "type"),
                   [(WAREHOUSE, "Online Retail warehouse (UK)", "warehouse")], actor=ACTOR)
        # No cost in the data: half the last selling price stands in for it.
        result = import_csv(uow_factory, "items", ITEM_COLUMNS, (
            (code, SIZE, CATEGORY, desc[:255], _money(price / 2), _money(price))
            for code, (desc, price) in sorted(scan.items.items())), actor=ACTOR,
            batch_size=batch)
        report.imports["items"] = f"batch {result.batch_id}: {result.rows} rows"
        credits = _CreditNotes({(r.customer, r.code) for r in scan.returns})
        sales = 0
        skip: set[str] = set()
        for path, mine in zip(files, scan.invoices, strict=True):
            def lines(path=path, skip=frozenset(skip)):
                for row in read_rows(path, skip):
                    if row.is_return:
                        credits.add(row)
                        continue
                    credits.bought(row)
                    yield (row.at.date().isoformat(), row.invoice, str(row.line), row.code,
                           SIZE, row.quantity, _money(row.price), "online", WAREHOUSE)

            say(f"importing the sales of {path.name} (second pass)")
            result = import_csv(uow_factory, "sales", SALES_COLUMNS, lines(), actor=ACTOR,
                                batch_size=batch)
            report.imports[f"sales {path.name}"] = (
                f"batch {result.batch_id}: {result.rows} rows, {result.applied} applied")
            sales += result.rows
            skip |= mine
        say(f"importing {len(credits.rows)} returned lines of {credits.lines} credit-note lines "
            "as return history")
        result = import_csv(uow_factory, "returns", RETURN_COLUMNS, credits.rows, actor=ACTOR,
                            batch_size=batch, policies=policies)
        report.imports["returns"] = (
            f"batch {result.batch_id}: {result.rows} rows, {result.applied} applied")
        report.returns = {
            "credit_note_lines": credits.lines, "units": credits.units,
            "matched_lines": credits.matched, "matched_units": credits.matched_units,
            "unmatched_lines": credits.unmatched, "unmatched_units": credits.unmatched_units}
        report.notes.append(
            f"All {credits.lines} credit-note (C) lines are imported as return history "
            f"({credits.units} units): {credits.matched} matched to the customer's earlier "
            f"purchase of the code, {credits.unmatched} kept unmatched by code and date (no "
            "customer, no earlier purchase, or more than it had left). They move no stock and "
            "make no units to grade; the data has no reasons or grades (reason `other`).")
        return sales

    # The forecast is as of the day after the data ends (it ends in 2011).
    holder = {}

    def load_and_date(report: LoadReport) -> int:
        rows = load(report)
        holder["as_of"] = scan_box["scan"].last_day + timedelta(days=1)
        return rows

    return guarded_load(uow_factory, settings, fingerprint=fingerprint, load=load_and_date,
                        as_of=lambda: holder["as_of"], actor=ACTOR, say=say)
