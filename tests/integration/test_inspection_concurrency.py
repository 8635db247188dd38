"""Benches grading the last units of one return at the same instant, on PostgreSQL."""

from __future__ import annotations

from functools import partial

import pytest

from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.concurrency_support import crowd

UNITS = 4


@pytest.fixture
def uow_factory(committing_db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    url = committing_db.engine.url.render_as_string(hide_password=False)
    database = Database(make_engine(url, pool_size=UNITS + 2))
    yield partial(UnitOfWork, database)
    database.dispose()


def test_the_last_units_of_a_return_graded_at_once_settle_one_refund_for_all(uow_factory):
    policies = Policies.from_settings(Settings.load(env={}))
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-1", quantity=UNITS)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=UNITS, reason="too_small")])
    units = receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                          lines=[{"line_no": 1, "quantity": UNITS}])

    crowd([partial(grade_unit, uow_factory, policies, unit_id=u.unit_id, grade="A",
                   actor=f"bench-{i}") for i, u in enumerate(units)])

    with uow_factory() as uow:
        due = [e.payload for e in uow.events.after(0, 100, "refund.due")]
        inspected = [e.payload for e in uow.events.after(0, 100, "return.inspected")]
    # Each bench waited for the one before it, so the last one saw every unit judged.
    assert [(d["units"], d["total"]) for d in due] == [(UNITS, "96.05")]
    assert len(inspected) == 1 and len(inspected[0]["units"]) == UNITS
    assert verify_ledger(uow_factory) == []
