"""A small catalogue whose quality truth is known, built through the import, returns and
grading services: one supplier with a bad batch of tees, two clean ones, and shoes."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

from returns_inventory.services.grading import grade_unit
from returns_inventory.services.imports import import_rows
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from tests.factories import add_location, add_sale, item_id_of

TODAY = datetime.now(UTC).date()  # receipts are stamped in UTC
SOLD_ON = TODAY - timedelta(days=10)
# The tests ask for the 15 days to today; the 15 days before are the previous period.
SINCE = TODAY - timedelta(days=14)
BEFORE = TODAY - timedelta(days=20)

ITEMS = """sku,size,category,unit_cost,supplier,factory,season,fabric
TEE-A,M,tops,8.50,ACME,F-PORTO,AW26,cotton jersey
TEE-B,M,tops,9.00,BADCO,F-DHAKA,AW26,cotton jersey
TEE-C,M,tops,7.00,CLEANCO,F-PORTO,SS26,linen
SHOE-A,42,shoes,30.00,ACME,F-PORTO,AW26,leather
SHOE-S,42,shoes,25.00,SOLECO,,AW26,leather
"""


def import_items(uow_factory, content: str = ITEMS):
    data = content.encode()
    return import_rows(uow_factory, "items", io.BytesIO(data), fmt="csv",
                       sha256=hashlib.sha256(data).hexdigest(), actor="token:erp")


def sell_and_return(uow_factory, policies, order_ref, item_id, warehouse, *, sold, returned,
                    reason="quality_defect", sold_on=SOLD_ON):
    """Sell `sold` units in one line and receive `returned` of them back; their unit ids."""
    add_sale(uow_factory, item_id, warehouse, order_ref=order_ref, quantity=sold,
             sold_on=sold_on)
    if not returned:
        return []
    view = authorize_return(uow_factory, policies, order_ref=order_ref, actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=returned,
                                                     reason=reason)])
    units = receive_units(uow_factory, rma=view.rma, location="WH1", actor="grader",
                          lines=[{"line_no": 1, "quantity": returned}])
    return [u.unit_id for u in units]


def grade(uow_factory, policies, units, grade_, defects=()):
    for unit in units:
        grade_unit(uow_factory, policies, unit_id=unit, grade=grade_, defects=list(defects),
                   actor="grader")


def build(uow_factory, policies) -> dict[str, list[str]]:
    """BADCO's tee: 20 of 100 back for quality, 8 of them with a manufacturing defect (sent
    back to BADCO), 4 written off; ACME's tee 3 of 100, CLEANCO's 2 of 100; shoes 6 and 5 of
    50 each. In the previous period BADCO's tee sold 100 and 3 came back. One TEE-A unit came
    back too small (not a quality reason)."""
    warehouse = add_location(uow_factory, "WH1")
    import_items(uow_factory)
    ids = {sku: item_id_of(uow_factory, sku) for sku in ("TEE-A", "TEE-B", "TEE-C", "SHOE-A",
                                                           "SHOE-S")}
    bad = sell_and_return(uow_factory, policies, "SO-B", ids["TEE-B"], warehouse, sold=100,
                          returned=20)
    grade(uow_factory, policies, bad[:8], "C", ["manufacturing_defect", "broken_zipper"])
    grade(uow_factory, policies, bad[8:12], "D", ["broken_zipper"])
    grade(uow_factory, policies, bad[12:], "A")
    sell_and_return(uow_factory, policies, "SO-B0", ids["TEE-B"], warehouse, sold=100,
                    returned=3, sold_on=BEFORE)
    sell_and_return(uow_factory, policies, "SO-A", ids["TEE-A"], warehouse, sold=100,
                    returned=3)
    sell_and_return(uow_factory, policies, "SO-A2", ids["TEE-A"], warehouse, sold=1,
                    returned=1, reason="too_small")
    sell_and_return(uow_factory, policies, "SO-C", ids["TEE-C"], warehouse, sold=100,
                    returned=2)
    sell_and_return(uow_factory, policies, "SO-SA", ids["SHOE-A"], warehouse, sold=50,
                    returned=6)
    sell_and_return(uow_factory, policies, "SO-SS", ids["SHOE-S"], warehouse, sold=50,
                    returned=5)
    return {"bad": bad}


def send_back_too_late(uow_factory, policies, *, units: int) -> list[str]:
    """BADCO tees sent back to BADCO for a manufacturing defect, then left unclaimed until
    their sale was 200 days ago (past BADCO's 180-day claim window); their unit ids
    (the codes on their labels)."""
    from sqlalchemy import update

    from returns_inventory.persistence.tables import sales_lines

    with uow_factory() as uow:
        warehouse = uow.catalogue.location_by_code("WH1").id
    late = sell_and_return(uow_factory, policies, "SO-LATE", item_id_of(uow_factory, "TEE-B"),
                           warehouse, sold=units, returned=units)
    grade(uow_factory, policies, late, "C", ["manufacturing_defect"])
    with uow_factory() as uow:
        uow.connection.execute(update(sales_lines).where(sales_lines.c.order_ref == "SO-LATE")
                               .values(sold_on=TODAY - timedelta(days=200)))
        uow.commit()
    return late
