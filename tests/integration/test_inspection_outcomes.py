"""Inspection decides what the customer gets, and the refund follows, on both databases."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from returns_inventory.domain.errors import Conflict
from returns_inventory.services.exchanges import refund_instead
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.grading_batch import UnitGrade, grade_units
from returns_inventory.services.inspection import override_outcome
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.refunds import list_refunds, mark_paid
from returns_inventory.services.returns import ReturnLineRequest, authorize_return, get_return
from returns_inventory.services.settlement import settle_all
from returns_inventory.services.stock import verify_ledger
from tests.factories import refund_policy, stock_up


def _events(uow_factory, event_type):
    with uow_factory() as uow:
        return [e.payload for e in uow.events.after(0, 100, event_type)]


def _returned(uow_factory, policies, *, quantity=1, reason="too_small", **line):
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            address_ref="ADDR-77", lines=[
                                ReturnLineRequest(line_ref="1", quantity=quantity,
                                                  reason=reason, **line)])
    units = receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                          lines=[{"line_no": 1, "quantity": quantity}], policies=policies)
    return view, [u.unit_id for u in units]


def _grade(uow_factory, policies, unit_id, grade="A", defects=()):
    """Graded, then settled as the scheduler's settle-refunds job does seconds later."""
    graded = grade_unit(uow_factory, policies, unit_id=unit_id, grade=grade,
                        defects=list(defects), actor="grader")
    settle_all(uow_factory, policies)
    return graded


def test_refunded_on_inspection_nothing_is_owed_until_the_unit_is_graded(
        uow_factory, policies, sold):
    view, [unit] = _returned(uow_factory, policies)
    assert view.refund_timing == "on_inspection"
    assert _events(uow_factory, "refund.due") == []
    graded = grade_unit(uow_factory, policies, unit_id=unit, grade="A", actor="grader")
    assert graded.outcome["outcome"] == "accept" and graded.outcome["amount"] == "25.00"
    # The grade answers the bench at once; the refund and the customer's answer follow from
    # the settlement step, and until then the return says so.
    assert _events(uow_factory, "refund.due") == []
    assert get_return(uow_factory, view.rma).settling
    assert settle_all(uow_factory, policies) == 1
    assert not get_return(uow_factory, view.rma).settling
    assert settle_all(uow_factory, policies) == 0  # settled once
    [due] = _events(uow_factory, "refund.due")
    today = policies.returns.today()
    assert due | {"refund_id": 0} == {
        "refund_id": 0, "rma": view.rma, "order_ref": "SO-1", "line_ref": "1",
        "timing": "on_inspection", "quantity": 1, "units": 1, "unit_price": "25.00",
        "goods": "25.00", "shipping_refund": "0.00",
        # The customer pays return shipping for a non-quality reason ([shipping]).
        "deductions": [{"code": "return_shipping", "label": "Return shipping",
                        "amount": "3.95"}],
        "amount": "21.05", "total": "21.05", "method": "original_payment",
        "due_on": (today + timedelta(days=14)).isoformat()}
    [inspected] = _events(uow_factory, "return.inspected")
    assert [u["outcome"] for u in inspected["units"]] == ["accept"]
    assert inspected["units"][0]["message"] == (
        "We received your TEE-BLK in size M: it meets our return policy and 25.00 will be "
        "refunded.")
    assert [r["total"] for r in inspected["refunds"]] == ["21.05"]


def test_missing_tags_cost_the_customer_a_fee_shown_on_the_refund(uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies)
    graded = _grade(uow_factory, policies, unit, "A", ["missing_tag"])
    assert graded.outcome["outcome"] == "deduct"
    assert graded.disposition == "restock_second_quality"  # grading's own rule still applies
    [due] = _events(uow_factory, "refund.due")
    assert [(d["code"], d["amount"]) for d in due["deductions"]] == [
        ("missing_tags_fee", "2.50"), ("return_shipping", "3.95")]
    assert due["total"] == "18.55"


def test_a_worn_unit_is_refused_and_leaves_quarantine_for_the_customer(
        uow_factory, policies, sold):
    view, [unit] = _returned(uow_factory, policies)
    graded = _grade(uow_factory, policies, unit, "B", ["worn_or_washed"])
    assert (graded.disposition, graded.status, graded.condition) == (
        "return_to_customer", "returned_to_customer", None)
    assert graded.where_to_put.startswith("Send back to customer")
    assert graded.rule == "worn or washed"  # the outcome rule that refused it
    with uow_factory() as uow:
        legs = uow.stock.list_movements(after=None, limit=10, reference=unit)
    assert [(m.condition, m.movement_type, m.quantity) for m in legs] == [
        ("quarantine", "receipt", 1), ("quarantine", "return_to_customer", -1)]
    [sent] = _events(uow_factory, "unit.returned_to_customer")
    assert (sent["unit_id"], sent["rma"], sent["address_ref"], sent["rule"]) == (
        unit, view.rma, "ADDR-77", "worn or washed")
    assert _events(uow_factory, "refund.due") == []
    [inspected] = _events(uow_factory, "return.inspected")
    assert inspected["units"][0]["outcome"] == "refuse"
    assert "we are sending it back to you" in inspected["units"][0]["message"]
    assert verify_ledger(uow_factory) == []


def test_a_quality_return_is_never_refused_and_gets_its_outbound_shipping_back(
        uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies, reason="quality_defect", condition_met=False)
    graded = _grade(uow_factory, policies, unit, "C", ["worn_or_washed"])
    assert graded.outcome["outcome"] == "accept" and graded.disposition == "repair"
    [due] = _events(uow_factory, "refund.due")
    # The merchant pays return shipping for a quality reason: nothing deducted.
    assert (due["shipping_refund"], due["deductions"], due["total"]) == ("4.95", [], "29.95")


def test_a_two_unit_line_is_refunded_once_both_are_judged_for_the_accepted_one_only(
        uow_factory, policies, sold):
    _, [first, second] = _returned(uow_factory, policies, quantity=2)
    _grade(uow_factory, policies, first, "A")
    assert _events(uow_factory, "refund.due") == []
    _grade(uow_factory, policies, second, "B", ["worn_or_washed"])
    [due] = _events(uow_factory, "refund.due")
    assert (due["units"], due["goods"], due["total"]) == (1, "25.00", "21.05")
    [inspected] = _events(uow_factory, "return.inspected")
    assert [u["outcome"] for u in inspected["units"]] == ["accept", "refuse"]


def test_a_tote_graded_in_one_request_settles_the_line_as_one_by_one_does(
        uow_factory, policies, sold):
    _, units = _returned(uow_factory, policies, quantity=2)
    grade_units(uow_factory, policies, grades=[UnitGrade(u, "A") for u in units],
                actor="grader")
    settle_all(uow_factory, policies)
    [due] = _events(uow_factory, "refund.due")
    assert (due["units"], due["total"]) == (2, "46.05")
    assert len(_events(uow_factory, "return.inspected")) == 1


def test_one_event_per_unit_when_the_policy_says_so(uow_factory, policies, sold):
    per_unit = replace(policies, inspection=replace(policies.inspection,
                                                    inspected_event="per_unit"))
    _, units = _returned(uow_factory, per_unit, quantity=2)
    for unit in units:
        _grade(uow_factory, per_unit, unit)
    assert [[u["unit_id"] for u in e["units"]]
            for e in _events(uow_factory, "return.inspected")] == [[units[0]], [units[1]]]


def test_a_refused_exchange_is_not_shipped_and_its_reservation_goes_back(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    view, [unit] = _returned(uow_factory, policies, resolution="exchange", exchange_size="L")
    _grade(uow_factory, policies, unit, "B", ["worn_or_washed"])
    [exchange_id] = [x["exchange_id"] for x in _events(uow_factory, "exchange.reserved")]
    assert [(e["exchange_id"], e["reason"]) for e in _events(uow_factory, "exchange.cancelled")
            ] == [(exchange_id, "returned unit refused at inspection")]
    with uow_factory() as uow:
        [exchange] = uow.returns.exchanges_of(uow.returns.return_by_rma(view.rma)["id"])
        rows, _ = uow.stock.list_balances(offset=0, limit=5, sku="TEE-BLK", size="L",
                                          location="WH1", condition="sellable")
    assert exchange["status"] == "cancelled" and (rows[0].on_hand, rows[0].reserved) == (1, 0)
    assert _events(uow_factory, "refund.due") == []


def test_refunding_an_exchange_instead_pays_the_units_already_judged(
        uow_factory, policies, sold):
    stock_up(uow_factory, "TEE-BLK", "L", "WH1", 1)
    _, [unit] = _returned(uow_factory, policies, resolution="exchange", exchange_size="L")
    _grade(uow_factory, policies, unit, "A", ["missing_tag"])
    assert _events(uow_factory, "refund.due") == []
    [exchange_id] = [x["exchange_id"] for x in _events(uow_factory, "exchange.reserved")]
    refunded = refund_instead(uow_factory, policies, exchange_id=exchange_id, actor="erp")
    assert refunded["refund_due"] == "18.55"


def test_refunded_on_receipt_the_full_price_is_owed_at_once_whatever_inspection_finds(
        uow_factory, policies, sold):
    fast = refund_policy(policies, "on_receipt")
    view, [unit] = _returned(uow_factory, fast)
    assert view.refund_timing == "on_receipt"
    [due] = _events(uow_factory, "refund.due")
    assert (due["timing"], due["total"], due["deductions"]) == ("on_receipt", "25.00", [])
    graded = _grade(uow_factory, fast, unit, "B", ["worn_or_washed"])
    assert (graded.outcome["outcome"], graded.disposition) == (
        "accept", "restock_second_quality")
    assert len(_events(uow_factory, "refund.due")) == 1
    with pytest.raises(Conflict, match="refunded on receipt"):
        override_outcome(uow_factory, fast, unit_id=unit, outcome="deduct",
                         deductions=["restocking_fee"], reason="worn", actor="admin")


def test_an_override_cancels_the_due_refund_and_issues_the_line_again(
        uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies)
    _grade(uow_factory, policies, unit, "A")
    [first] = _events(uow_factory, "refund.due")
    answer = override_outcome(uow_factory, policies, unit_id=unit, outcome="deduct",
                              deductions=["restocking_fee"], reason="box missing",
                              actor="admin")
    assert (answer["outcome"], answer["amount"]) == ("deduct", "20.00")
    [cancelled] = _events(uow_factory, "refund.cancelled")
    assert cancelled["refund_id"] == first["refund_id"]
    second = _events(uow_factory, "refund.due")[1]
    # Return shipping is charged again on the new refund: the cancelled one no longer holds it.
    assert (second["total"], [d["code"] for d in second["deductions"]]) == (
        "16.05", ["restocking_fee", "return_shipping"])
    [overridden] = _events(uow_factory, "inspection.overridden")
    assert (overridden["from"], overridden["to"]) == ("accept", "deduct")
    assert _events(uow_factory, "return.inspected")[-1]["revised"] is True
    today = policies.returns.today()
    assert [r["total"] for r in list_refunds(uow_factory, status="due", today=today,
                                             limit=10, after=None)] == ["16.05"]


def test_an_override_to_refuse_sends_a_restocked_unit_back_and_owes_nothing(
        uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies)
    _grade(uow_factory, policies, unit, "A")
    override_outcome(uow_factory, policies, unit_id=unit, outcome="refuse",
                     reason="wardrobing seen on the photos", actor="admin")
    with uow_factory() as uow:
        legs = uow.stock.list_movements(after=None, limit=10, reference=unit)
        assert uow.units.unit(unit).status.value == "returned_to_customer"
    assert [(m.condition, m.movement_type, m.quantity) for m in legs][-1] == (
        "sellable", "return_to_customer", -1)
    today = policies.returns.today()
    assert list_refunds(uow_factory, status="due", today=today, limit=10, after=None) == []
    assert verify_ledger(uow_factory) == []


def test_a_paid_refund_stays_paid_once_and_cannot_be_overridden(uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies)
    _grade(uow_factory, policies, unit, "A")
    [due] = _events(uow_factory, "refund.due")
    paid = mark_paid(uow_factory, refund_id=due["refund_id"], actor="erp", payment_ref="P-1")
    again = mark_paid(uow_factory, refund_id=due["refund_id"], actor="erp", payment_ref="P-2")
    assert paid == again and (paid["status"], paid["payment_ref"]) == ("paid", "P-1")
    assert len(_events(uow_factory, "refund.paid")) == 1
    with pytest.raises(Conflict, match="already paid"):
        override_outcome(uow_factory, policies, unit_id=unit, outcome="refuse",
                         reason="late finding", actor="admin")
    assert _events(uow_factory, "inspection.overridden") == []


def test_an_unpaid_refund_past_its_date_is_listed_as_overdue(uow_factory, policies, sold):
    _, [unit] = _returned(uow_factory, policies)
    _grade(uow_factory, policies, unit, "A")
    later = policies.returns.today() + timedelta(days=15)
    [overdue] = list_refunds(uow_factory, status="overdue", today=later, limit=10, after=None)
    assert overdue["overdue"] is True
    assert list_refunds(uow_factory, status="overdue", today=policies.returns.today(),
                        limit=10, after=None) == []


def test_planner_pages_flag_an_overdue_refund(client, uow_factory, policies, sold,
                                              monkeypatch):
    from returns_inventory.domain.returns import ReturnsPolicy
    from tests.integration.web_support import log_in

    _, [unit] = _returned(uow_factory, policies)
    _grade(uow_factory, policies, unit, "A")
    log_in(client, uow_factory, "planner")
    assert 'id="overdue-refunds"' not in client.get("/planner").get_data(as_text=True)
    later = policies.returns.today() + timedelta(days=15)
    monkeypatch.setattr(ReturnsPolicy, "today", lambda self, now=None: later)
    home = client.get("/planner").get_data(as_text=True)
    assert "1 refund overdue" in home
    listed = client.get("/planner/refunds?status=overdue").get_data(as_text=True)
    assert 'class="pill overdue"' in listed and "21.05" in listed


def test_the_refunds_page_pages_through_every_refund_instead_of_cutting_the_list(
        client, uow_factory, policies, sold, monkeypatch):
    from returns_inventory.web import refunds_page
    from tests.integration.web_support import log_in

    monkeypatch.setattr(refunds_page, "PAGE_SIZE", 1)
    first, second = (_returned(uow_factory, policies) for _ in range(2))
    for _, [unit] in (first, second):
        _grade(uow_factory, policies, unit, "A")
    log_in(client, uow_factory, "planner")
    page_one = client.get("/planner/refunds").get_data(as_text=True)
    assert first[0].rma in page_one and second[0].rma not in page_one
    [next_link] = re.findall(r'href="([^"]*after=[^"]*)" rel="next"', page_one)
    page_two = client.get(html.unescape(next_link)).get_data(as_text=True)
    assert second[0].rma in page_two and first[0].rma not in page_two
    assert 'rel="next"' not in page_two and "First page" in page_two


def test_returns_analytics_count_refused_and_deducted_units_by_reason_and_sku(
        uow_factory, policies, sold):
    from returns_inventory.services.analytics import returns_analytics

    _, [worn, tagless] = _returned(uow_factory, policies, quantity=2)
    _grade(uow_factory, policies, worn, "B", ["worn_or_washed"])
    _grade(uow_factory, policies, tagless, "A", ["missing_tag"])
    found = returns_analytics(uow_factory, policies.returns)
    assert found["inspection"] == [{
        "reason": "too_small", "sku": "TEE-BLK", "units_judged": 2, "accepted": 0,
        "deducted": 1, "refused": 1, "refused_share": 0.5, "deducted_share": 0.5,
        "deducted_value": "2.50"}]


def test_the_returns_analytics_page_lists_refusals_by_reason_and_sku(
        client, uow_factory, policies, sold):
    from tests.integration.web_support import log_in

    _, [worn] = _returned(uow_factory, policies, reason="changed_mind")
    _grade(uow_factory, policies, worn, "B", ["worn_or_washed"])
    log_in(client, uow_factory, "planner")
    page = client.get("/planner/returns").get_data(as_text=True)
    section = page[page.index('id="inspection"'):]
    assert "Changed mind" in section and "TEE-BLK" in section and "1 (100%)" in section
