"""A demo apparel business drawn from `forecasting.synthetic`, loaded the way production data is.

Two years of weekly sales become dated order lines; items, locations, sales, purchase orders
and a stock snapshot arrive as ERP files through the import service; returns go through
authorize -> receive -> grade, dated as they happened. The synthetic truth (size-dependent
return rates and reasons, category lags, restockable shares) therefore shows up in the
analytics and the forecast exactly as it would from real data.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from forecasting.panel import GRADES, NO_GRADE, REASONS
from forecasting.synthetic import make_apparel_panel

from ..domain.weeks import monday_of
from ..persistence.uow import UowFactory
from ..services.planning_inputs import last_complete_week
from .load import LoadReport, every, guarded_load
from .replay import (
    HistoricalReturn,
    ReturnLine,
    import_csv,
    pay_refunds_as_the_erp_did,
    replay_returns,
)

ACTOR = "demo"
# The returns replay says how far it is at most this often (it takes 20 s to minutes).
PROGRESS_SECONDS = 3.0
WAREHOUSE, STORES = "WH1", ("ST-MAN", "ST-LDS")
LOCATIONS = [(WAREHOUSE, "Central warehouse", "warehouse", "false"),
             (STORES[0], "Store Manchester", "store", "false"),
             (STORES[1], "Store Leeds", "store", "false")]
WINDOW_WEEKS = 5  # synthetic lags stop here: about the 30-45 day policy windows
# Synthetic category -> (demo category, size relabelling). Dresses' ladder becomes shoe sizes.
CATEGORY = {"tops": "tops", "trousers": "bottoms", "knitwear": "outerwear", "dresses": "footwear"}
SHOE_SIZE = {"34": "38", "36": "39", "38": "40", "40": "41", "42": "42", "44": "43"}
STYLES = {
    "tops": ("TOP", ("Oxford shirt", "Linen shirt", "Striped top", "Silk blouse")),
    "basics": ("BAS", ("Crew-neck tee", "V-neck tee", "Tank top", "Long-sleeve tee")),
    "bottoms": ("BTM", ("Slim chino", "Straight jean", "Wide-leg trouser", "Cargo trouser")),
    "outerwear": ("OUT", ("Rain jacket", "Wool coat", "Puffer jacket", "Field jacket")),
    "footwear": ("FTW", ("Leather sneaker", "Chelsea boot", "Running shoe", "Loafer")),
}
COLOURS = (("BLK", "black"), ("NVY", "navy"), ("WHT", "white"), ("OLV", "olive"),
           ("GRY", "grey"), ("SND", "sand"), ("RED", "red"))
SUPPLIERS = ("ACME", "NORDTEX", "LUSOFAB")
# Each supplier makes in two factories, so the quality scorecards have factories to compare.
FACTORIES = {"ACME": ("Dhaka 1", "Dhaka 4"), "NORDTEX": ("Izmir", "Bursa"),
             "LUSOFAB": ("Porto 2", "Braga")}
FABRICS = {"basics": "cotton jersey", "tops": "cotton poplin", "bottoms": "denim",
           "outerwear": "wool blend", "footwear": "leather"}
SEASONS = ("SS25", "AW25", "SS26", "AW26")
CASE_PACK = {"basics": 6, "tops": 4, "bottoms": 4, "outerwear": 2, "footwear": 1}
DEFECTS = {"B": (["missing_tag"], ["stain"], []), "C": (["tear"], ["broken_zipper"]),
           "D": (["stain", "tear"], ["odour"], ["manufacturing_defect"])}

ITEM_COLUMNS = ("sku", "size", "category", "description", "unit_cost", "price", "supplier",
                "lead_time_days", "case_pack", "min_order_qty", "factory", "season", "fabric")
SALES_COLUMNS = ("sold_on", "order_ref", "line_ref", "sku", "size", "quantity", "unit_price",
                 "channel", "location")
STOCK_COLUMNS = ("sku", "size", "location", "on_hand")
PO_COLUMNS = ("po_ref", "line_ref", "sku", "size", "location", "quantity", "expected_on")


@dataclass
class DemoData:
    items: list[tuple]
    sales: list[tuple]
    stock: list[tuple]
    purchase_orders: list[tuple]
    returns: list[HistoricalReturn]
    truth: dict = field(default_factory=dict)


def build_demo(*, skus: int, seed: int, today: date, level: float = -0.2) -> DemoData:
    """The demo business as ERP rows and historical returns (pure: no database).

    `level` is the mean log weekly demand of a style (forecasting.synthetic's
    ``mean_log_rate``); the default gives about 1.5 units a week per style, so 60 styles
    make ~9,000 units sold and ~3,000 returned over two years.
    """
    rng = np.random.default_rng(seed + 1)
    panel = make_apparel_panel(skus * 6 + 12, n_weeks=104, seed=seed, window=WINDOW_WEEKS,
                               mean_log_rate=level)
    keep = np.flatnonzero(panel.truth["sku"] < skus)
    first_monday = monday_of(last_complete_week(today) - 103)
    series = _series(panel, keep)
    items = _items(series, panel, rng)
    sales, lines_of = _sales(series, panel, rng, first_monday)
    returns = _returns(series, panel, rng, lines_of, today)
    stock = _stock(series, panel, rng)
    orders = _purchase_orders(series, panel, rng, today)
    truth = {"series": len(series), "units_sold": int(panel.sales.y[keep].sum()),
             "units_returned": sum(ln.quantity for r in returns for ln in r.lines)}
    return DemoData(items, sales, stock, orders, returns, truth)


@dataclass(frozen=True)
class _Series:
    row: int  # row in the synthetic panel
    sku: str
    size: str
    category: str
    style: int


def _series(panel, keep) -> list[_Series]:
    synthetic = ("tops", "dresses", "trousers", "knitwear")  # forecasting.synthetic's order
    out = []
    for row in keep.tolist():
        style = int(panel.truth["sku"][row])
        source = synthetic[int(panel.truth["category"][row])]
        category = CATEGORY[source]
        if source == "tops" and style % 2 == 0:
            category = "basics"  # every other top is a plain basic with a higher service level
        prefix, _ = STYLES[category]
        colour = COLOURS[style % len(COLOURS)][0]
        size = str(panel.sales.ids[row]).split("|", 1)[1]
        out.append(_Series(row, f"{prefix}-{style + 1:03d}-{colour}",
                           SHOE_SIZE.get(size, size) if category == "footwear" else size,
                           category, style))
    return out


def _items(series, panel, rng) -> list[tuple]:
    rows = []
    costs: dict[int, float] = {}
    for s in series:
        cost = costs.setdefault(s.style, float(panel.items.unit_cost[s.row]))
        _, names = STYLES[s.category]
        name = names[s.style % len(names)]
        colour = COLOURS[s.style % len(COLOURS)][1]
        pack = CASE_PACK[s.category]
        supplier = SUPPLIERS[s.style % 3]
        rows.append((s.sku, s.size, s.category, f"{name}, {colour}", f"{cost:.2f}",
                     f"{max(round(cost * 2.5) - 0.01, 0.99):.2f}", supplier,
                     int(panel.items.lead_time[s.row]) * 7, pack, pack,
                     FACTORIES[supplier][s.style // 3 % 2], SEASONS[s.style % len(SEASONS)],
                     FABRICS[s.category]))
    return rows


def _sales(series, panel, rng, first_monday: date):
    """Weekly units -> order lines of 1-2 units, grouped into orders of 1-3 lines."""
    price = {}
    week_lines: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for k, s in enumerate(series):
        price[k] = round(float(panel.items.unit_cost[s.row]) * 2.5) - 0.01
        for week in np.flatnonzero(panel.sales.y[s.row]).tolist():
            units = int(panel.sales.y[s.row, week])
            while units:
                qty = 2 if units >= 2 and rng.random() < 0.15 else 1
                week_lines[week].append((k, qty))
                units -= qty
    rows, lines_of = [], defaultdict(list)  # (series, week) -> [[order, line, day, left]]
    order_no = 0
    for week in sorted(week_lines):
        lines = week_lines[week]
        rng.shuffle(lines)
        i = 0
        while i < len(lines):
            size = int(rng.choice((1, 2, 3), p=(0.6, 0.3, 0.1)))
            order_no += 1
            day = first_monday + timedelta(weeks=week, days=int(rng.integers(0, 7)))
            store = rng.random() < 0.3
            channel = "store" if store else "online"
            where = STORES[int(rng.integers(0, 2))] if store else WAREHOUSE
            ref = f"DEMO-{order_no:06d}"
            for n, (k, qty) in enumerate(lines[i:i + size], start=1):
                s = series[k]
                rows.append((day.isoformat(), ref, str(n), s.sku, s.size, qty,
                             f"{max(price[k], 0.99):.2f}", channel, where))
                lines_of[(k, week)].append([ref, str(n), day, qty, where])
            i += size
    return rows, lines_of


def _returns(series, panel, rng, lines_of, today: date) -> list[HistoricalReturn]:
    """Each synthetic returned unit comes back on a line of its own sale week."""
    row_of = {s.row: k for k, s in enumerate(series)}
    r = panel.returns
    parcels: dict[tuple[str, int], dict] = {}
    yesterday = today - timedelta(days=1)
    for i in range(len(r.series)):
        k = row_of.get(int(r.series[i]))
        if k is None:
            continue
        candidates = lines_of.get((k, int(r.sale_week[i])))
        line = next((c for c in candidates or () if c[3] > 0), None)
        if line is None:
            continue  # cannot happen (returns <= sales), but never invent a sale
        line[3] -= 1
        order_ref, line_ref, sold_on, _, where = line
        lag = int(r.receipt_week[i] - r.sale_week[i])
        parcel = parcels.setdefault((order_ref, lag), {"sold_on": sold_on, "lag": lag,
                                                      "where": where, "lines": {}})
        reason = REASONS[int(r.reason[i])]
        grade = GRADES[int(r.grade[i])] if int(r.grade[i]) != NO_GRADE else None
        ret = parcel["lines"].setdefault((line_ref, reason), ReturnLine(line_ref, 0, reason))
        ret.quantity += 1
        ret.grades.append(None if grade is None else (grade, _defects(grade, rng)))
    out = []
    for (order_ref, lag), p in sorted(parcels.items(), key=lambda kv: (kv[1]["sold_on"], kv[0])):
        days = max(2, lag * 7 + int(rng.integers(-2, 3)))
        received = min(p["sold_on"] + timedelta(days=days), yesterday)
        requested = max(p["sold_on"], received - timedelta(days=int(rng.integers(2, 5))))
        at = datetime.combine(received, time(9 + int(rng.integers(0, 8))), tzinfo=UTC)
        # Store sales may come back to the store; everything else goes to the warehouse.
        where = p["where"] if p["where"] != WAREHOUSE and rng.random() < 0.5 else WAREHOUSE
        out.append(HistoricalReturn(order_ref, requested, at, where, list(p["lines"].values())))
    out.sort(key=lambda h: h.received_at)
    return out


def _defects(grade: str, rng) -> list[str]:
    options = DEFECTS.get(grade)
    return list(options[int(rng.integers(0, len(options)))]) if options else []


def _stock(series, panel, rng) -> list[tuple]:
    rows = []
    for s in series:
        recent = float(panel.sales.y[s.row, -4:].mean())
        rows.append((s.sku, s.size, WAREHOUSE, int(rng.poisson(recent * 2.5))))
        for store in STORES:
            rows.append((s.sku, s.size, store, int(rng.poisson(recent * 0.4))))
    return rows


def _purchase_orders(series, panel, rng, today: date) -> list[tuple]:
    """Open orders for about a quarter of the styles, due in the next one to five weeks."""
    rows, po_of = [], {}
    for s in series:
        if s.style % 4 != 1:
            continue
        po = po_of.setdefault(s.style, (f"PO-DEMO-{len(po_of) + 1:04d}",
                                        today + timedelta(days=int(rng.integers(7, 36)))))
        pack = CASE_PACK[s.category]
        weekly = float(panel.sales.y[s.row, -8:].mean())
        qty = max(pack, int(np.ceil(weekly * 4 / pack)) * pack)
        rows.append((po[0], s.size, s.sku, s.size, WAREHOUSE, qty, po[1].isoformat()))
    return rows


def load_synthetic(uow_factory: UowFactory, settings, policies, *, skus: int = 60, seed: int = 7,
                   today: date | None = None, level: float = -0.2,
                   say: Callable[[str], None] = lambda _m: None) -> LoadReport:
    """Load the synthetic demo into an empty database, then forecast once."""
    today = today or date.today()
    fingerprint = hashlib.sha256(f"synthetic skus={skus} seed={seed}".encode()).hexdigest()

    def load(report: LoadReport) -> int:
        say(f"building the demo business: {skus} styles, seed {seed}")
        data = build_demo(skus=skus, seed=seed, today=today, level=level)
        batch = settings.import_batch_size
        for kind, columns, rows in (
            ("locations", ("code", "name", "type", "allow_negative"), LOCATIONS),
            ("items", ITEM_COLUMNS, data.items),
            ("sales", SALES_COLUMNS, data.sales),
            ("purchase-orders", PO_COLUMNS, data.purchase_orders),
        ):
            result = import_csv(uow_factory, kind, columns, rows, actor=ACTOR, batch_size=batch)
            report.imports[kind] = f"batch {result.batch_id}: {result.rows} rows"
            say(f"imported {kind}: {result.rows} rows (batch {result.batch_id})")
        say(f"replaying {len(data.returns)} returns ({data.truth['units_returned']} units) "
            "through authorize -> receive -> grade")
        tell = every(PROGRESS_SECONDS, say)
        counts = replay_returns(
            uow_factory, policies, data.returns, actor=ACTOR,
            on_day=lambda n, days, day: tell(
                f"replaying returns: day {n} of {days} ({day.isoformat()})",
                n in (1, days)))
        report.returns = {"authorized": counts.authorized, "refused": counts.refused,
                          "units_received": counts.units_received,
                          "units_graded": counts.units_graded, **{
                              f"refused_{k}": v for k, v in counts.refused_by_rule.items()}}
        paid = pay_refunds_as_the_erp_did(uow_factory, today=today, actor=ACTOR)
        report.returns["refunds_paid"] = paid
        say(f"the ERP's payments: {paid} refunds marked paid")
        # The ERP's snapshot comes last: it already counts the units put back on the shelf.
        result = import_csv(uow_factory, "stock", STOCK_COLUMNS, data.stock, actor=ACTOR,
                            batch_size=batch)
        report.imports["stock"] = f"batch {result.batch_id}: {result.rows} rows"
        say(f"imported stock: {result.rows} rows (batch {result.batch_id})")
        return len(data.sales)

    return guarded_load(uow_factory, settings, fingerprint=fingerprint, load=load,
                        as_of=today, actor="demo:synthetic", say=say)
