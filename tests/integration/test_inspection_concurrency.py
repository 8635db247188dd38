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
from returns_inventory.services.settlement import settle_all, settle_waiting
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.concurrency_support import crowd

SIZES = ("S", "M", "L", "XL")


@pytest.fixture
def uow_factory(committing_db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    url = committing_db.engine.url.render_as_string(hide_password=False)
    database = Database(make_engine(url, pool_size=len(SIZES) + 2))
    yield partial(UnitOfWork, database)
    database.dispose()


def test_the_last_units_of_a_return_graded_at_once_answer_the_customer_once(uow_factory):
    policies = Policies.from_settings(Settings.load(env={}))
    location_id = add_location(uow_factory, "WH1")
    # One unit of each of several sizes: no stock balance is shared, only the return.
    for i, size in enumerate(SIZES):
        add_sale(uow_factory, add_item(uow_factory, "TEE-BLK", size), location_id,
                 order_ref="SO-1", line_ref=str(i + 1), quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref=str(i + 1), quantity=1, reason="too_small")
        for i in range(len(SIZES))])
    units = receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                          lines=[{"line_no": i + 1, "quantity": 1} for i in range(len(SIZES))])

    # The benches grade while settlement passes run beside them, as the scheduler's job does.
    crowd([partial(grade_unit, uow_factory, policies, unit_id=u.unit_id, grade="A",
                   actor=f"bench-{i}") for i, u in enumerate(units)]
          + [partial(settle_waiting, uow_factory, policies) for _ in range(2)])
    settle_all(uow_factory, policies)  # the next pass settles what the others did not see

    with uow_factory() as uow:
        due = [e.payload for e in uow.events.after(0, 100, "refund.due")]
        inspected = [e.payload for e in uow.events.after(0, 100, "return.inspected")]
    # Whichever pass saw the return complete answered it, once, with every unit.
    assert len(inspected) == 1 and len(inspected[0]["units"]) == len(SIZES)
    # The customer's return shipping comes off one refund only.
    assert sorted(d["total"] for d in due) == ["21.05"] + ["25.00"] * (len(SIZES) - 1)
    assert verify_ledger(uow_factory) == []
