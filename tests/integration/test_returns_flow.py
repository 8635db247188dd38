"""A return from authorization to its final place in stock, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.domain.errors import Conflict
from returns_inventory.domain.grading import AlreadyGraded
from returns_inventory.domain.returns import ReturnRefused
from returns_inventory.services.exchanges import (
    ExchangeUnavailable,
    refund_instead,
    release_expired_reservations,
    reserve_again,
    ship_exchange,
)
from returns_inventory.services.grading import grade_unit, regrade_unit
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return, cancel_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.services.write_offs import decide_write_off
from tests.factories import add_item, add_location, add_sale, refund_policy, stock_up


def _balance(uow_factory, sku, size, location, condition):
    with uow_factory() as uow:
        rows, _ = uow.stock.list_balances(offset=0, limit=10, sku=sku, size=size,
                                          location=location, condition=condition)
    return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)


def test_a_graded_A_unit_lands_once_in_sellable_stock_at_the_receiving_store(
        uow_factory, policies, sold):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small")])
    assert view.status == "authorized" and view.shipping_paid_by == "customer"
    [unit] = receive_units(uow_factory, rma=view.rma, location="ST1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    assert _balance(uow_factory, "TEE-BLK", "M", "ST1", "quarantine") == (1, 0)
    result = grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="A", actor="grader")
    assert (result.disposition, result.condition) == ("restock_sellable", "sellable")
    assert _balance(uow_factory, "TEE-BLK", "M", "ST1", "quarantine") == (0, 0)
    assert _balance(uow_factory, "TEE-BLK", "M", "ST1", "sellable") == (1, 0)
    with pytest.raises(AlreadyGraded):
        grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="B", actor="grader")
    assert _balance(uow_factory, "TEE-BLK", "M", "ST1", "sellable") == (1, 0)
    assert verify_ledger(uow_factory) == []


def test_a_two_unit_line_cannot_be_returned_three_times(uow_factory, policies, sold):
    authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                     lines=[ReturnLineRequest(line_ref="1", quantity=2, reason="too_large")])
    with pytest.raises(ReturnRefused) as refused:
        authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                         lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    assert refused.value.rule == "quantity"
    with uow_factory() as uow:
        assert uow.events.count("return.rejected") == 1


def test_receiving_more_than_authorized_is_refused(uow_factory, policies, sold):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    with pytest.raises(Conflict):
        receive_units(uow_factory, rma=view.rma, location="WH1",
                      lines=[{"line_no": 1, "quantity": 2}], actor="grader")
    assert _balance(uow_factory, "TEE-BLK", "M", "WH1", "quarantine") == (0, 0)


def test_an_exchange_reserves_the_replacement_size_and_shipping_consumes_it(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 3)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    [exchange] = view.exchanges
    assert (exchange["size"], exchange["status"]) == ("L", "reserved")
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (3, 1)
    assert _balance(uow_factory, "TEE-BLK", "M", "WH1", "sellable") == (0, 0)
    ship_exchange(uow_factory, exchange_id=exchange["id"], actor="erp")
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (2, 0)
    assert verify_ledger(uow_factory) == []


def test_an_exchange_out_of_stock_lists_nearest_sizes_and_writes_nothing(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "S", "WH1", 2)
    with pytest.raises(ExchangeUnavailable) as unavailable:
        authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
            ReturnLineRequest(line_ref="1", quantity=1, reason="too_small",
                              resolution="exchange", exchange_size="L")])
    assert [a["size"] for a in unavailable.value.extra["alternatives"]] == ["S"]
    with uow_factory() as uow:
        assert uow.events.count("return.authorized") == 0


def test_cancelling_a_return_releases_its_reservation(uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    cancel_return(uow_factory, rma=view.rma, actor="erp")
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (1, 0)
    # The cancelled units are returnable again.
    authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                     lines=[ReturnLineRequest(line_ref="1", quantity=2, reason="other")])


def test_a_return_whose_replacement_has_shipped_cannot_be_cancelled(uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    ship_exchange(uow_factory, exchange_id=view.exchanges[0]["id"], actor="erp")
    with pytest.raises(Conflict, match="shipped"):
        cancel_return(uow_factory, rma=view.rma, actor="erp")
    # The unit the customer still owes stays claimed: only the other sold unit is returnable.
    with pytest.raises(ReturnRefused):
        authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                         lines=[ReturnLineRequest(line_ref="1", quantity=2, reason="other")])


def test_a_costly_write_off_waits_for_an_admin_then_posts_its_value(uow_factory, policies):
    item_id = add_item(uow_factory, "COAT-GRY", "M", unit_cost="180.00", category="outerwear")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-9", quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-9", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    pending = grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="D",
                         defects=["tear"], actor="grader")
    assert pending.awaiting_approval and pending.status == "pending_write_off"
    assert _balance(uow_factory, "COAT-GRY", "M", "WH1", "quarantine") == (1, 0)
    posted = decide_write_off(uow_factory, write_off_id=pending.write_off_id, approve=True,
                              actor="admin")
    assert posted.status == "written_off" and posted.write_off_value == "180.00"
    assert _balance(uow_factory, "COAT-GRY", "M", "WH1", "quarantine") == (0, 0)
    corrected = regrade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="B",
                             reason="tear was a loose thread", actor="admin")
    assert corrected.condition == "second_quality"
    assert _balance(uow_factory, "COAT-GRY", "M", "WH1", "second_quality") == (1, 0)
    assert verify_ledger(uow_factory) == []


def _events(uow_factory, event_type):
    with uow_factory() as uow:
        return [e.payload for e in uow.events.after(0, 100, event_type)]


def test_regrading_a_restocked_unit_to_the_same_grade_announces_no_second_restock(
        uow_factory, policies, sold):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="A", actor="grader")
    with uow_factory() as uow:
        moves_before = len(uow.stock.list_movements(after=None, limit=100,
                                                    reference=unit.unit_id))
    regrade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="A",
                 reason="second look", actor="admin")
    with uow_factory() as uow:
        assert len(uow.stock.list_movements(after=None, limit=100,
                                            reference=unit.unit_id)) == moves_before
    assert len(_events(uow_factory, "stock.restocked")) == 1
    assert _balance(uow_factory, "TEE-BLK", "M", "WH1", "sellable") == (1, 0)
    # A re-grade that does move stock is announced.
    regrade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="B",
                 reason="a pulled seam", actor="admin")
    assert [e["condition"] for e in _events(uow_factory, "stock.restocked")] == [
        "sellable", "second_quality"]


def test_regrading_a_written_off_unit_announces_the_reversal_of_its_write_off(
        uow_factory, policies, sold):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    first = grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="D",
                       defects=["tear"], actor="grader")
    again = regrade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="D",
                         defects=["stain"], reason="wrong defect", actor="admin")
    # The ERP books write-off 1, takes it back, and books write-off 2: one loss, not two.
    written = _events(uow_factory, "stock.written_off")
    reversed_ = _events(uow_factory, "stock.write_off_reversed")
    assert [e["write_off_id"] for e in written] == [first.write_off_id, again.write_off_id]
    assert reversed_ == [{"unit_id": unit.unit_id, "write_off_id": first.write_off_id,
                          "value": first.write_off_value, "sku": "TEE-BLK", "size": "M",
                          "location": "WH1"}]
    with uow_factory() as uow:
        assert uow.units.write_off(first.write_off_id)["status"] == "reversed"
        assert uow.units.write_off(again.write_off_id)["status"] == "posted"
    # Back into stock: the last write-off is reversed too, and the restock announced.
    regrade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="A",
                 reason="it was fine", actor="admin")
    assert [e["write_off_id"] for e in _events(uow_factory, "stock.write_off_reversed")] == [
        first.write_off_id, again.write_off_id]
    assert len(_events(uow_factory, "stock.restocked")) == 1
    assert _balance(uow_factory, "TEE-BLK", "M", "WH1", "sellable") == (1, 0)
    assert verify_ledger(uow_factory) == []


def test_cancelling_a_return_cancels_its_backordered_exchange_and_tells_the_erp(
        uow_factory, policies, sold):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L", fallback="backorder")])
    [exchange] = view.exchanges
    assert exchange["status"] == "backordered"
    cancelled = cancel_return(uow_factory, rma=view.rma, actor="erp")
    assert [ex["status"] for ex in cancelled.exchanges] == ["cancelled"]
    assert _events(uow_factory, "exchange.cancelled") == [
        {"exchange_id": exchange["id"], "reason": "return cancelled", "quantity": 1}]
    assert _events(uow_factory, "exchange.released") == []
    with pytest.raises(Conflict):
        ship_exchange(uow_factory, exchange_id=exchange["id"], actor="erp")


def test_an_expired_reservation_can_be_reserved_again_once_stock_is_back(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    [exchange] = view.exchanges
    assert release_expired_reservations(
        uow_factory, now=datetime.now(UTC) + timedelta(days=365)) == 1
    # Another exchange (the order's second unit) takes the last L meanwhile.
    other = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    assert other.exchanges[0]["status"] == "reserved"
    with pytest.raises(ExchangeUnavailable) as unavailable:
        reserve_again(uow_factory, policies, exchange_id=exchange["id"], actor="erp")
    assert unavailable.value.extra["alternatives"] == []
    stock_up(uow_factory, "TEE-BLK", "L", "ST1", 2)
    again = reserve_again(uow_factory, policies, exchange_id=exchange["id"], actor="erp")
    assert (again["status"], again["location"]) == ("reserved", "ST1")
    assert _balance(uow_factory, "TEE-BLK", "L", "ST1", "sellable") == (2, 1)
    assert [e["exchange_id"] for e in _events(uow_factory, "exchange.reserved")] == [
        exchange["id"], other.exchanges[0]["id"], exchange["id"]]
    with pytest.raises(Conflict, match="reserved"):
        reserve_again(uow_factory, policies, exchange_id=exchange["id"], actor="erp")
    ship_exchange(uow_factory, exchange_id=exchange["id"], actor="erp")
    assert _balance(uow_factory, "TEE-BLK", "L", "ST1", "sellable") == (1, 0)
    assert verify_ledger(uow_factory) == []


def test_a_backorder_that_cannot_ship_becomes_a_refund_for_the_units_received(
        uow_factory, policies, sold):
    # A channel refunded on receipt: the units already received are owed at once.
    view = authorize_return(uow_factory, refund_policy(policies, "on_receipt"), order_ref="SO-1",
                            actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=2, reason="too_small", resolution="exchange",
                          exchange_size="L", fallback="backorder")])
    [exchange] = view.exchanges
    receive_units(uow_factory, rma=view.rma, location="WH1",
                  lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    assert _events(uow_factory, "refund.due") == []
    refunded = refund_instead(uow_factory, policies, exchange_id=exchange["id"], actor="erp")
    assert (refunded["status"], refunded["refund_due"]) == ("refunded", "25.00")
    assert _events(uow_factory, "exchange.cancelled") == [
        {"exchange_id": exchange["id"], "reason": "refunded instead", "quantity": 2}]
    # The second unit, received later, is refunded as any refund line's unit is.
    receive_units(uow_factory, rma=view.rma, location="WH1",
                  lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    assert [(e["quantity"], e["amount"]) for e in _events(uow_factory, "refund.due")] == [
        (1, "25.00"), (1, "25.00")]
    with pytest.raises(Conflict, match="refunded"):
        refund_instead(uow_factory, policies, exchange_id=exchange["id"], actor="erp")
    with pytest.raises(Conflict, match="refunded"):
        reserve_again(uow_factory, policies, exchange_id=exchange["id"], actor="erp")


def test_refunding_a_reserved_exchange_gives_its_unit_back_to_stock(uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    refunded = refund_instead(uow_factory, policies, exchange_id=view.exchanges[0]["id"],
                              actor="erp")
    assert refunded["refund_due"] is None  # nothing received yet
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (1, 0)
    assert len(_events(uow_factory, "exchange.released")) == 1
    assert _events(uow_factory, "exchange.cancelled") == [
        {"exchange_id": view.exchanges[0]["id"], "reason": "refunded instead", "quantity": 1}]


def test_refunding_an_expired_exchange_tells_the_erp_even_with_nothing_received(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    release_expired_reservations(uow_factory, now=datetime.now(UTC) + timedelta(days=365))
    refund_instead(uow_factory, policies, exchange_id=view.exchanges[0]["id"], actor="erp")
    assert [e["reason"] for e in _events(uow_factory, "exchange.cancelled")] == [
        "refunded instead"]
    assert _events(uow_factory, "refund.due") == []
    assert verify_ledger(uow_factory) == []


def test_a_cancelled_returns_exchange_cannot_be_reserved_again(uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    cancel_return(uow_factory, rma=view.rma, actor="erp")
    with uow_factory() as uow:
        # Not listed among expired reservations that someone should act on.
        assert uow.returns.exchanges_by_status("released", limit=10, after=None) == []
        assert [x["id"] for x in uow.returns.exchanges_by_status(
            "cancelled", limit=10, after=None)] == [view.exchanges[0]["id"]]
    with pytest.raises(Conflict, match="cancelled"):
        reserve_again(uow_factory, policies, exchange_id=view.exchanges[0]["id"], actor="erp")
    with pytest.raises(Conflict, match="cancelled"):
        refund_instead(uow_factory, policies, exchange_id=view.exchanges[0]["id"], actor="erp")
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (1, 0)


def test_cancelling_a_return_closes_its_expired_reservation_too(uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    assert release_expired_reservations(
        uow_factory, now=datetime.now(UTC) + timedelta(days=365)) == 1
    cancel_return(uow_factory, rma=view.rma, actor="erp")
    with uow_factory() as uow:
        # No longer listed as an expired reservation someone should reserve again or refund.
        assert uow.returns.exchanges_by_status("released", limit=10, after=None) == []
        assert [x["id"] for x in uow.returns.exchanges_by_status(
            "cancelled", limit=10, after=None)] == [view.exchanges[0]["id"]]
    # The stock went back once, at expiry, and the ERP heard of it once.
    assert _balance(uow_factory, "TEE-BLK", "L", "WH1", "sellable") == (1, 0)
    assert len(_events(uow_factory, "exchange.released")) == 1
    assert verify_ledger(uow_factory) == []
