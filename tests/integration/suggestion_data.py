"""A small, hand-written review board: two runs of suggestions with known numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from returns_inventory.persistence.planning_tables import replenishment_suggestions
from returns_inventory.persistence.tables import sales_lines
from tests.factories import add_item, add_location

AS_OF = date(2026, 11, 23)  # a Monday: the forecast starts this week
HORIZON = 4
# (sku, size, category, supplier, case_pack, unit_cost, location, suggested, blind, previous)
BOARD = [
    ("TEE-BLK", "S", "tops", "ACME", 6, "8.50", "WH1", 12, 18, 12),
    ("TEE-BLK", "M", "tops", "ACME", 6, "8.50", "WH1", 30, 36, 24),
    ("TEE-BLK", "L", "tops", "ACME", 6, "8.50", "WH1", 18, 18, None),
    ("JEAN-IND", "32", "bottoms", "DENIMCO", 4, "20.00", "WH1", 8, 12, 8),
    ("SOCK-WHT", "OS", "accessories", "SOCKCO", 12, "1.50", "WH2", 24, 24, 36),
]


@dataclass
class Board:
    run_id: int
    old_run_id: int
    ids: dict[str, int] = field(default_factory=dict)  # "TEE-BLK/M" -> suggestion id
    item_ids: dict[str, int] = field(default_factory=dict)
    old_id: int = 0


def _run(uow_factory, as_of: date) -> int:
    with uow_factory() as uow:
        run_id = uow.planning.start_run(as_of=as_of, executor="local", workers=1,
                                        trigger="cli", actor="test")
        uow.planning.finish_run(run_id, status="succeeded")
        uow.commit()
    return run_id


def _suggestion(run_id, as_of, item_id, location_id, cost, suggested, blind, previous,
                status="proposed") -> dict:
    return {"run_id": run_id, "as_of": as_of, "item_id": item_id, "location_id": location_id,
            "status": status, "suggested_qty": suggested, "return_blind_qty": blind,
            "previous_qty": previous, "unit_cost": Decimal(cost),
            "value": Decimal(cost) * suggested,
            "terms": {"gross_demand": 40.0, "expected_returns": 6.0, "order_qty": suggested,
                      "safety_stock_method": "normal"},
            "explanation": f"order-up-to arithmetic for {suggested}"}


def _forecast(run_id, item_id) -> dict:
    return {"run_id": run_id, "item_id": item_id, "origin_week": AS_OF, "method": "ses",
            "why": "holdout", "level": "size", "demand_class": "smooth",
            "forecast": [10.0] * HORIZON, "lower": [6.0] * HORIZON, "upper": [14.0] * HORIZON,
            "interval_level": 0.8, "return_rate": 0.25, "restockable_share": 0.8,
            "lag_median_weeks": 2.0, "expected_returns": [1.5] * HORIZON,
            "explanation": "ses (smooth demand, size), lowest holdout MAE"}


def build_board(uow_factory) -> Board:
    """Run `old` (a week earlier, one superseded suggestion) and the latest run of five."""
    locations = {code: add_location(uow_factory, code) for code in ("WH1", "WH2")}
    items = {}
    for sku, size, category, supplier, pack, cost, *_ in BOARD:
        items[f"{sku}/{size}"] = add_item(uow_factory, sku, size, category=category,
                                          supplier=supplier, case_pack=pack, unit_cost=cost)
    old_run = _run(uow_factory, AS_OF - timedelta(days=7))
    run = _run(uow_factory, AS_OF)
    with uow_factory() as uow:
        uow.planning.add_suggestions([_suggestion(
            old_run, AS_OF - timedelta(days=7), items["TEE-BLK/M"], locations["WH1"], "8.50",
            24, 30, None, status="superseded")])
        uow.planning.add_suggestions([
            _suggestion(run, AS_OF, items[f"{sku}/{size}"], locations[loc], cost, *qty)
            for sku, size, _c, _s, _p, cost, loc, *qty in BOARD])
        uow.planning.add_forecasts([_forecast(run, item_id) for item_id in items.values()])
        rows = uow.connection.execute(select(
            replenishment_suggestions.c.id, replenishment_suggestions.c.run_id,
            replenishment_suggestions.c.item_id)).all()
        uow.commit()
    by_item = {v: k for k, v in items.items()}
    board = Board(run_id=run, old_run_id=old_run, item_ids=items)
    for row in rows:
        if row.run_id == run:
            board.ids[by_item[row.item_id]] = row.id
        else:
            board.old_id = row.id
    return board


def sell_weekly(uow_factory, item_id: int, location_code: str, units_by_weeks_ago: dict):
    """Sell `units` of one item on the Tuesday of the week `weeks_ago` weeks before AS_OF's."""
    with uow_factory() as uow:
        location_id = uow.catalogue.location_by_code(location_code).id
        uow.connection.execute(sales_lines.insert(), [
            {"order_ref": f"SO-{ago}", "line_ref": "1", "item_id": item_id,
             "location_id": location_id, "quantity": units, "unit_price": Decimal("20"),
             "channel": "online", "sold_on": week_start(ago) + timedelta(days=1)}
            for ago, units in units_by_weeks_ago.items()])
        uow.commit()


def week_start(weeks_ago: int) -> date:
    return AS_OF - timedelta(weeks=weeks_ago)
