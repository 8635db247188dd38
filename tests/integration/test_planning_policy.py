"""The nightly run takes its service policy from config/forecasting.toml: targets, costs and
suppliers' order costs reach the library and come back in each suggestion's terms."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from returns_inventory.persistence.planning_tables import replenishment_suggestions
from returns_inventory.persistence.tables import sales_lines
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from returns_inventory.services.suggestions import get_suggestion
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location

AS_OF = date(2026, 11, 23)


def test_a_supplier_with_an_order_cost_is_ordered_in_eoq_lots_and_others_up_to_a_level(
        uow_factory, db):
    location_id = add_location(uow_factory, "WH1")
    items = {supplier: add_item(uow_factory, f"TEE-{supplier}", "M", supplier=supplier,
                                case_pack=1, min_order_qty=0, lead_time_days=14)
             for supplier in ("LOTS", "PLAIN")}
    rows = [dict(order_ref=f"SO-{s}-{week}", line_ref="1", item_id=item_id,
                 location_id=location_id, quantity=10, unit_price=Decimal("20"),
                 channel="online", sold_on=AS_OF - timedelta(weeks=30 - week))
            for s, item_id in items.items() for week in range(30)]
    with uow_factory() as uow:
        uow.connection.execute(sales_lines.insert(), rows)
        uow.commit()
    settings = Settings.load(env={})
    doc = dict(settings.policies["forecasting"])
    doc["costs"] = {"default": {"holding": 0.05, "shortage": 1.0}}
    doc["order_costs"] = {"LOTS": 40.0}
    settings = settings.replace(policies={**settings.policies, "forecasting": doc})
    run = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    shown = {}
    for sid, item_id in db.connection.execute(
            select(replenishment_suggestions.c.id, replenishment_suggestions.c.item_id)
            .where(replenishment_suggestions.c.run_id == run["id"])):
        shown[item_id] = get_suggestion(uow_factory, sid)
    lots, plain = shown[items["LOTS"]], shown[items["PLAIN"]]
    # EOQ on 10 a week: sqrt(2 * 40 * 10 / 0.05) = 126.5 -> 127 units a lot
    assert lots["pipeline"]["policy"] == "rQ"
    assert lots["pipeline"]["order_lot"] == 127
    assert lots["suggested_qty"] % 127 == 0 and lots["suggested_qty"] > 0
    assert plain["pipeline"]["policy"] == "order_up_to"
    assert plain["pipeline"]["order_lot"] == 0
    assert "(r,Q) with lot Q = 127" in lots["explanation"]
