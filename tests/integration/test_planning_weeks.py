"""The nightly run's weeks do not depend on the database session's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from returns_inventory.domain.weeks import week_of
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale


def test_a_unit_received_late_on_sunday_counts_in_that_week_in_any_session_time_zone(
    uow_factory, db
):
    policies = Policies.from_settings(Settings.load(env={}))
    item_id = add_item(uow_factory, "TEE-TZ", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-TZ", sold_on=date(2026, 11, 2))
    view = authorize_return(uow_factory, policies, order_ref="SO-TZ", actor="test",
                            requested_on=date(2026, 11, 10), today=date(2026, 11, 10),
                            lines=[ReturnLineRequest("1", 1, "too_small")])
    sunday_night = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)
    receive_units(uow_factory, rma=view.rma, location="WH1", actor="test",
                  lines=[{"line_no": 1, "quantity": 1}], received_at=sunday_night)
    if db.connection.dialect.name == "postgresql":
        # Already Monday there: a session-zone cast would move the receipt a week on.
        db.connection.execute(text("SET TIME ZONE 'Pacific/Auckland'"))
    with uow_factory() as uow:
        rows = uow.planning.received_returns(
            week_of(date(2026, 10, 26)), week_of(date(2026, 11, 23)),
            reasons=("too_small",), other_reason=1, grades=("A",), no_grade=1,
        )
    [(item, sale_week, receipt_week, _reason, _grade, units)] = rows.tolist()
    assert (item, units) == (item_id, 1)
    assert sale_week == week_of(date(2026, 11, 2))
    assert receipt_week == week_of(date(2026, 11, 15))
