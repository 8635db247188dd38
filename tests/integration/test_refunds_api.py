"""Refunds and inspection outcomes over the API, as the ERP and an admin use them."""

from __future__ import annotations

import pytest

from tests.factories import add_item, add_location, add_sale, settle_refunds


@pytest.fixture
def sale(uow_factory):
    item_id = add_item(uow_factory, "JEANS-IND", "32", unit_cost="20.00")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-7", line_ref="A", quantity=3,
             unit_price="59.90")


def _received(client, auth, *, reason="too_small", quantity=1, **line):
    erp = auth("integrator")
    answer = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7", "address_ref": "ADDR-9",
        "lines": [{"line_ref": "A", "quantity": quantity, "reason": reason, **line}]})
    assert answer.status_code == 201, answer.json
    rma = answer.json["rma"]
    units = client.post(f"/api/v1/returns/{rma}/receipts", headers=auth("grader"), json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": quantity}]}).json["units"]
    return rma, [u["unit_id"] for u in units]


def _grade(client, auth, unit, grade="A", defects=()):
    answer = client.post(f"/api/v1/units/{unit}/grade", headers=auth("grader"),
                         json={"grade": grade, "defects": list(defects)})
    assert answer.status_code == 200, answer.json
    settle_refunds(client.application)
    return answer.json


def test_each_outcome_over_the_api_with_its_refund_and_message(client, auth, sale):
    rma, [kept, tagless, worn] = _received(client, auth, quantity=3)
    assert _grade(client, auth, kept)["outcome"]["outcome"] == "accept"
    deducted = _grade(client, auth, tagless, "A", ["missing_tag"])["outcome"]
    assert (deducted["outcome"], deducted["amount"], deducted["deductions"]) == (
        "deduct", "53.91", [{"code": "missing_tags_fee", "label": "Missing tags",
                             "amount": "5.99"}])
    refused = _grade(client, auth, worn, "B", ["worn_or_washed"])
    assert (refused["disposition"], refused["outcome"]["outcome"]) == (
        "return_to_customer", "refuse")
    erp = auth("integrator")
    [due] = client.get("/api/v1/refunds?status=due", headers=erp).json["data"]
    # 2 x 59.90 - 5.99 - 3.95 return shipping
    assert (due["rma"], due["units"], due["goods"], due["total"], due["method"]) == (
        rma, 2, "119.80", "109.86", "original_payment")
    assert [d["code"] for d in due["deductions"]] == ["missing_tags_fee", "return_shipping"]
    inspected = client.get("/api/v1/events?type=return.inspected", headers=erp).json["data"]
    [answer] = [e["payload"] for e in inspected]
    assert [u["outcome"] for u in answer["units"]] == ["accept", "deduct", "refuse"]
    assert all(u["message"] for u in answer["units"])
    sent = client.get("/api/v1/events?type=unit.returned_to_customer", headers=erp).json
    assert sent["data"][0]["payload"]["address_ref"] == "ADDR-9"
    shown = client.get(f"/api/v1/returns/{rma}", headers=erp).json
    assert [u["outcome"] for u in shown["units"]] == ["accept", "deduct", "refuse"]
    assert (shown["refund_timing"], shown["address_ref"]) == ("on_inspection", "ADDR-9")


def test_marking_a_refund_paid_twice_pays_it_once(client, auth, sale):
    _, [unit] = _received(client, auth)
    _grade(client, auth, unit)
    erp = auth("integrator")
    [due] = client.get("/api/v1/refunds?status=due", headers=erp).json["data"]
    first = client.post(f"/api/v1/refunds/{due['id']}/paid", headers=erp,
                        json={"payment_ref": "PAY-1"})
    assert first.status_code == 200 and first.json["status"] == "paid"
    again = client.post(f"/api/v1/refunds/{due['id']}/paid", headers=erp, json={})
    assert again.status_code == 200 and again.json == first.json
    keyed = {**erp, "Idempotency-Key": "pay-once"}
    client.post(f"/api/v1/refunds/{due['id']}/paid", headers=keyed, json={})
    replayed = client.post(f"/api/v1/refunds/{due['id']}/paid", headers=keyed, json={})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    paid_events = client.get("/api/v1/events?type=refund.paid", headers=erp).json["data"]
    assert len(paid_events) == 1
    assert [r["id"] for r in client.get("/api/v1/refunds?status=paid",
                                        headers=erp).json["data"]] == [due["id"]]
    assert client.get("/api/v1/refunds?status=due", headers=erp).json["data"] == []


def test_paying_an_unknown_or_cancelled_refund_is_refused(client, auth, sale):
    erp, admin = auth("integrator"), auth("admin")
    assert client.post("/api/v1/refunds/999999/paid", headers=erp, json={}).status_code == 404
    _, [unit] = _received(client, auth)
    _grade(client, auth, unit)
    [due] = client.get("/api/v1/refunds?status=due", headers=erp).json["data"]
    overridden = client.post(f"/api/v1/units/{unit}/outcome", headers=admin, json={
        "outcome": "deduct", "deductions": ["restocking_fee"], "reason": "no box"})
    assert overridden.status_code == 200, overridden.json
    assert overridden.json["amount"] == "54.90"
    cancelled = client.post(f"/api/v1/refunds/{due['id']}/paid", headers=erp, json={})
    assert cancelled.status_code == 409
    assert cancelled.json["refund_status"] == "cancelled"


def test_an_override_names_the_field_at_fault_and_needs_an_admin(client, auth, sale):
    _, [unit] = _received(client, auth, reason="quality_defect")
    _grade(client, auth, unit, "C", ["tear"])
    admin = auth("admin")
    refused = client.post(f"/api/v1/units/{unit}/outcome", headers=admin,
                          json={"outcome": "refuse", "reason": "looks worn"})
    assert refused.status_code == 422
    assert refused.json["errors"] == [{"field": "outcome",
                                       "reason": "quality reason: not refuse"}]
    unknown = client.post(f"/api/v1/units/{unit}/outcome", headers=admin, json={
        "outcome": "deduct", "deductions": ["bribe"], "reason": "x"})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "deductions"
    assert client.post(f"/api/v1/units/{unit}/outcome", headers=auth("grader"), json={
        "outcome": "accept", "reason": "x"}).status_code == 403
    erp = auth("integrator")
    events = client.get("/api/v1/events?type=inspection.overridden", headers=erp).json
    assert events["data"] == []


def test_the_refund_list_needs_a_known_status(client, auth, sale):
    erp = auth("integrator")
    answer = client.get("/api/v1/refunds?status=late", headers=erp)
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "status"
    assert client.get("/api/v1/refunds?status=due", headers=auth("grader")).status_code == 403


def test_a_customer_declaring_tags_off_for_a_non_quality_reason_is_refused_at_authorization(
        client, auth, sale):
    answer = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "changed_mind",
                                        "condition": {"tags_on": False, "unworn": True,
                                                      "unwashed": True}}]})
    assert answer.status_code == 422 and answer.json["rule"] == "condition"


def test_the_customers_own_check_is_kept_on_the_line_and_judged_against(
        client, auth, sale, uow_factory, app):
    from dataclasses import replace

    from returns_inventory.domain.inspection import Outcome, OutcomeRule

    # A policy that deducts when tags the customer said were on are found missing.
    with app.app_context():
        from returns_inventory.extensions import policies
        shipped = policies()
        app.extensions["ri.policies"] = replace(shipped, inspection=replace(
            shipped.inspection, rules=(OutcomeRule(
                "tags declared on, found off", Outcome.DEDUCT, failed_any=frozenset({"tags_on"}),
                declared_met=True, deductions=("restocking_fee",)),)))
    rma, [unit] = _received(client, auth, reason="quality_defect",
                            condition={"tags_on": True, "unworn": False, "unwashed": True})
    shown = client.get(f"/api/v1/returns/{rma}", headers=auth("integrator")).json
    assert shown["lines"][0]["declared_condition"] == ["tags_on", "unwashed"]
    graded = _grade(client, auth, unit, "B", ["missing_tag"])["outcome"]
    assert (graded["outcome"], graded["failed_conditions"]) == ("deduct", ["tags_on"])
