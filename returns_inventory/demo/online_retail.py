"""The UCI Online Retail transactions (gzip CSV, as an ERP would export them) as demo data.

Each StockCode becomes a one-size item (size ONE, category homeware); invoice lines become
sales through the import service; `C` (cancellation/return) lines become returns matched to
the same customer's latest earlier purchase of that StockCode and go through authorize ->
receive, dated as they happened, so the returns policy judges them as on their own date.

The files are streamed twice (items first, then sales); only the item list, the invoice
numbers and the few thousand returns being replayed are held in memory.
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
from .replay import HistoricalReturn, ReturnLine, import_csv, replay_returns

ACTOR = "demo:online-retail"
WAREHOUSE = "WH1"
SIZE, CATEGORY, REASON = "ONE", "homeware", "other"
MERCHANDISE = re.compile(r"^\d{5}")  # POST, DOT, M, BANK CHARGES... are not goods
CENT = Decimal("0.01")
ITEM_COLUMNS = ("sku", "size", "category", "description", "unit_cost", "price")
SALES_COLUMNS = ("sold_on", "order_ref", "line_ref", "sku", "size", "quantity", "unit_price",
                 "channel", "location")


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
                    returns.append(row)
            elif row.price > 0:
                item[1] = row.price
            last = max(last, row.at.date())
        invoices.append(mine)
        seen |= mine
    returns.sort(key=lambda r: r.at)
    return _Scan(items, invoices, returns, last)


def _newest_returns(returns: list[_Row], max_units: int) -> list[_Row]:
    """The most recent C lines holding at most `max_units` units between them."""
    chosen, units = [], 0
    for row in reversed(returns):
        if units - row.quantity > max_units:
            break
        chosen.append(row)
        units -= row.quantity
    return chosen[::-1]


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def load_online_retail(uow_factory: UowFactory, settings, policies, files: list[Path], *,
                       max_return_units: int = 2000,
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
        chosen = _newest_returns(scan.returns, max_return_units)
        wanted = {(r.invoice, r.line) for r in chosen}
        pairs = {(r.customer, r.code) for r in chosen}
        latest: dict[tuple[str, str], list] = {}  # (customer, code) -> [invoice, line, day, left]
        parcels: list[HistoricalReturn] = []
        unmatched = sales = 0
        skip: set[str] = set()
        for path, mine in zip(files, scan.invoices, strict=True):
            def lines(path=path, skip=frozenset(skip)):
                nonlocal unmatched
                for row in read_rows(path, skip):
                    if not row.is_return:
                        if (row.customer, row.code) in pairs:
                            latest[(row.customer, row.code)] = [
                                row.invoice, str(row.line), row.at.date(), row.quantity]
                        yield (row.at.date().isoformat(), row.invoice, str(row.line), row.code,
                               SIZE, row.quantity, _money(row.price), "online", WAREHOUSE)
                    elif (row.invoice, row.line) in wanted:
                        bought = latest.get((row.customer, row.code))
                        if bought is None or bought[3] <= 0:
                            unmatched += 1
                            continue
                        quantity = min(-row.quantity, bought[3])
                        bought[3] -= quantity
                        parcels.append(HistoricalReturn(
                            bought[0], row.at.date(), row.at, WAREHOUSE,
                            [ReturnLine(bought[1], quantity, REASON)]))

            say(f"importing the sales of {path.name} (second pass)")
            result = import_csv(uow_factory, "sales", SALES_COLUMNS, lines(), actor=ACTOR,
                                batch_size=batch)
            report.imports[f"sales {path.name}"] = (
                f"batch {result.batch_id}: {result.rows} rows, {result.applied} applied")
            sales += result.rows
            skip |= mine
        first = chosen[0].at.date().isoformat() if chosen else "-"
        say(f"replaying {len(parcels)} returns from {first} through authorize -> receive")
        counts = replay_returns(uow_factory, policies, parcels, actor=ACTOR)
        report.returns = {
            "c_lines_with_customer": len(scan.returns), "replayed_from": first,
            "c_lines_replayed": len(chosen), "unmatched": unmatched,
            "authorized": counts.authorized, "refused": counts.refused,
            "units_received": counts.units_received, "units_graded": 0,
            **{f"refused_{k}": v for k, v in counts.refused_by_rule.items()}}
        report.notes.append(
            f"Only the newest {len(chosen)} of {len(scan.returns)} customer C lines (at most "
            f"{max_return_units} units, from {first}) are replayed: every returned piece becomes "
            "a labelled unit, and the file's wholesale cancellations run to ~490,000 pieces. "
            "Return rates in this forecast are understated accordingly. The data has no grades, "
            "so received units wait for grading.")
        return sales

    # The forecast is as of the day after the data ends (it ends in 2011).
    holder = {}

    def load_and_date(report: LoadReport) -> int:
        rows = load(report)
        holder["as_of"] = scan_box["scan"].last_day + timedelta(days=1)
        return rows

    return guarded_load(uow_factory, settings, fingerprint=fingerprint, load=load_and_date,
                        as_of=lambda: holder["as_of"], actor=ACTOR, say=say)
