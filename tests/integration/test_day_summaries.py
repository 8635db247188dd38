"""Units sold and returned per item and sale day, kept by the writers: the returns report
summed from them is the report summed from the lines, whatever was imported, re-sent, refused
or received, and the migration's fill counts what the writers count."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select, text

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.domain.sales_window import SalesWindow
from returns_inventory.persistence.summary_tables import returns_by_sale_day, sales_by_day
from returns_inventory.services import analytics_report
from returns_inventory.services.analytics import size_key
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location
from tests.integration.test_imports import run_import
from tests.unit.test_report_cells_layout import assert_same_cells, cells_before

TODAY = datetime.now(UTC).date()
SALES = "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
RETURNS = (
    "return_ref,return_line_ref,returned_on,quantity,reason,order_ref,line_ref,sku,size,"
    "customer,sold_on,received_on,grade,disposition\n"
)
SKUS = {"TEE-1": "tops", "TEE-2": "tops", "CHINO-1": "bottoms", "CHINO-2": "bottoms"}
SIZES = ("S", "M", "L")
REASONS = ("too_small", "too_large", "changed_mind", "quality_defect")
MIGRATION = (
    Path(__file__).parents[2]
    / "returns_inventory/persistence/migrations/versions"
    / "2026_12_05_0021_day_summaries.py"
)


@pytest.fixture(scope="module")
def policies():
    return Policies.from_settings(Settings.load(env={}))


def _import(uow_factory, policies, kind: str, content: str, fmt: str = "csv"):
    return run_import(uow_factory, kind, content, fmt, policies=policies)


@pytest.fixture
def history(uow_factory, policies):
    """Two months of sales of 12 SKU × sizes in two files (the second re-sends a third of the
    first), ERP returns of some of them (some naming no sale), and live returns received."""
    rng = np.random.default_rng(7)
    add_location(uow_factory, "WH1")
    for sku in SKUS:
        for size in SIZES:
            add_item(uow_factory, sku, size, category=SKUS[sku])
    sales = []
    for n in range(240):
        sku, size = rng.choice(list(SKUS)), rng.choice(SIZES)
        sold_on = TODAY - timedelta(days=int(rng.integers(1, 60)))
        sales.append((f"SO-{n}", sku, size, int(rng.integers(1, 5)), sold_on))

    def lines(chosen):
        return SALES + "".join(
            f"{d},{o},1,{s},{z},{q},20.00,online,WH1\n" for o, s, z, q, d in chosen
        )

    _import(uow_factory, policies, "sales", lines(sales[:160]))
    assert _import(uow_factory, policies, "sales", lines(sales[100:])).skipped == 60
    erp = []
    for n, (order, sku, size, quantity, sold_on) in enumerate(sales[:200]):
        if rng.random() < 0.4:
            back = int(rng.integers(1, quantity + 1))
            erp.append(
                f"CN-{n},1,{sold_on + timedelta(days=3)},{back},"
                f"{rng.choice(REASONS)},{order},1,,,,,,,\n"
            )
        if rng.random() < 0.1:  # no sale named: counted on the sale day given, else its own
            sold = f"{sold_on}" if rng.random() < 0.5 else ""
            erp.append(
                f"CN-X{n},1,{sold_on + timedelta(days=2)},1,too_large,,,{sku},{size},,{sold},,,\n"
            )
    _import(uow_factory, policies, "returns", RETURNS + "".join(erp))
    for order, _, _, quantity, sold_on in sales[200:]:
        if sold_on >= TODAY - timedelta(days=20) and quantity > 1:
            view = authorize_return(
                uow_factory,
                policies,
                order_ref=order,
                actor="erp",
                lines=[
                    ReturnLineRequest(
                        line_ref="1", quantity=quantity - 1, reason=str(rng.choice(REASONS))
                    )
                ],
            )
            receive_units(
                uow_factory,
                rma=view.rma,
                location="WH1",
                actor="grader",
                lines=[{"line_no": 1, "quantity": quantity - 1}],
            )
    return sales


def _summaries(db) -> tuple[list, list]:
    return (
        [
            tuple(r)
            for r in db.connection.execute(
                select(sales_by_day).order_by(*sales_by_day.primary_key.columns)
            )
        ],
        [
            tuple(r)
            for r in db.connection.execute(
                select(returns_by_sale_day).order_by(*returns_by_sale_day.primary_key.columns)
            )
        ],
    )


class LinesRead:
    """The analytics repository with its sums read from the lines themselves."""

    def __init__(self, repository):
        self.repository = repository

    def __getattr__(self, name):
        return getattr(self.repository, name)

    def summed_sold(self, window):
        return _columns(self.repository.units_sold(window), ("item_id", "sku", "size",
                                                            "category", "units"))

    def summed_returned(self, window):
        return _columns(self.repository.units_returned(window), ("item_id", "reason", "units"))


def _columns(rows: list[dict], names: tuple[str, ...]) -> dict[str, list]:
    return {name: [r[name] for r in rows] for name in names}


@pytest.mark.parametrize(
    "window",
    [
        SalesWindow(TODAY - timedelta(days=89), TODAY),
        SalesWindow(TODAY - timedelta(days=30), TODAY - timedelta(days=6)),
        SalesWindow(TODAY - timedelta(days=9), TODAY - timedelta(days=9)),
        SalesWindow(TODAY - timedelta(days=89), TODAY, categories=("tops",)),
        SalesWindow(TODAY - timedelta(days=89), TODAY, sku="CHINO-2", categories=("bottoms",)),
    ],
)
def test_the_report_summed_per_day_is_the_report_summed_from_the_lines(
    uow_factory, policies, history, window
):
    key = size_key(tuple(policies.returns.size_order))
    with uow_factory() as uow:
        stamp = uow.analytics.change_stamp()
        summed = analytics_report.build_cells(uow.analytics, policies.returns, window, key, stamp)
        lines = analytics_report.build_cells(
            LinesRead(uow.analytics), policies.returns, window, key, stamp
        )
    assert len(summed.item_id) and summed.reasons.sum()  # the window holds sales and returns
    assert summed.item_id.tolist() == lines.item_id.tolist()
    assert summed.sold.tolist() == lines.sold.tolist()
    assert summed.reason_codes == lines.reason_codes
    assert summed.reasons.tolist() == lines.reasons.tolist()
    assert summed.tests.sizes.q_value.tolist() == lines.tests.sizes.q_value.tolist()
    assert summed.tests.skus.flagged.tolist() == lines.tests.skus.flagged.tolist()


@pytest.mark.parametrize("days", [90, 30, 1])
def test_the_cells_laid_out_on_arrays_are_those_laid_out_per_row_before(
    uow_factory, policies, history, days
):
    key = size_key(tuple(policies.returns.size_order))
    window = SalesWindow(TODAY - timedelta(days=days - 1), TODAY)
    with uow_factory() as uow:
        stamp = uow.analytics.change_stamp()
        new = analytics_report.build_cells(uow.analytics, policies.returns, window, key, stamp)
        old = cells_before(uow.analytics, policies.returns, window, key, stamp)
    assert len(new.item_id) or days == 1
    assert_same_cells(new, old)


def test_a_resent_or_refused_file_leaves_the_summaries_as_they_were(
    uow_factory, db, policies, history
):
    before = _summaries(db)
    order, sku, size, quantity, sold_on = history[0]
    resent = json.dumps(
        [
            {
                "sold_on": str(sold_on),
                "order_ref": order,
                "line_ref": "1",
                "sku": sku,
                "size": size,
                "quantity": quantity,
                "unit_price": "20.00",
                "channel": "online",
                "location": "WH1",
            }
        ]
    )  # another file, one line
    assert _import(uow_factory, policies, "sales", resent, "json").skipped == 1
    with pytest.raises(ValidationFailed):  # one good line, one of an unknown item
        _import(
            uow_factory,
            policies,
            "sales",
            SALES + f"{TODAY},SO-NEW,1,{sku},{size},1,"
            f"20.00,online,WH1\n{TODAY},SO-BAD,1,NOPE,M,1,20.00,online,WH1\n",
        )
    with pytest.raises(ValidationFailed):  # more back than sold
        _import(
            uow_factory,
            policies,
            "returns",
            RETURNS + f"CN-NEW,1,{TODAY},99,too_small,{order},1,,,,,,,\n",
        )
    assert _summaries(db) == before


def test_counting_every_line_again_or_the_migrations_fill_gives_what_the_writers_kept(
    uow_factory, db, history
):
    kept = _summaries(db)
    db.connection.execute(delete(sales_by_day).where(sales_by_day.c.item_id == 1))
    analytics_report.recount_day_summaries(uow_factory)  # `db recount-summaries`
    assert _summaries(db) == kept
    spec = importlib.util.spec_from_file_location("day_summaries_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.connection.execute(delete(sales_by_day))
    db.connection.execute(delete(returns_by_sale_day))
    db.connection.execute(text(migration.FILL_SALES))
    db.connection.execute(text(migration.FILL_RETURNS))
    assert _summaries(db) == kept
    assert kept[0] and kept[1]
