"""Vendor claims over HTTP: gathered per supplier, sent, credited or rejected, exported."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.integration.quality_data import SINCE, SOLD_ON, TODAY, build, send_back_too_late

URL = "/api/v1/claims"
SCORECARD = f"/api/v1/analytics/quality?by=supplier&since={SINCE}&until={TODAY}"


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def catalogue(uow_factory, policies):
    return build(uow_factory, policies)


def _gather(client, auth, body=None):
    answer = client.post(f"{URL}/gather", json=body or {}, headers=auth("planner"))
    assert answer.status_code == 200, answer.json
    return answer.json["data"]


def test_gathering_leaves_out_units_whose_claim_window_ended_and_lists_them(
        client, auth, uow_factory, policies, catalogue):
    late = send_back_too_late(uow_factory, policies, units=2)
    answer = client.post(f"{URL}/gather", json={}, headers=auth("planner"))
    assert answer.status_code == 200
    [claim] = answer.json["data"]
    assert (claim["units"], claim["value"]) == (8, "72.00")  # only the units inside the window
    ended = (TODAY - timedelta(days=200 - 180)).isoformat()
    assert sorted(answer.json["window_ended"], key=lambda u: u["unit"]) == [
        {"unit": code, "supplier": "BADCO", "value": "9.00", "window_ends_on": ended}
        for code in sorted(late)]
    again = client.post(f"{URL}/gather", json={}, headers=auth("planner")).json
    assert again["data"] == [] and len(again["window_ended"]) == 2  # never drafted later


def _money(client, auth):
    body = client.get(SCORECARD, headers=auth("planner")).json
    return next(row for row in body["groups"] if row["group"] == "BADCO")["claims"]


def test_units_sent_back_are_gathered_into_one_draft_per_supplier_once(client, auth, catalogue):
    [claim] = _gather(client, auth)
    assert (claim["supplier"], claim["status"], claim["units"], claim["value"]) == (
        "BADCO", "draft", 8, "72.00")
    assert _gather(client, auth) == []  # nothing new: no unit is billed twice
    detail = client.get(f"{URL}/{claim['id']}", headers=auth("integrator")).json
    ends = (SOLD_ON + timedelta(days=180)).isoformat()  # BADCO has the default 180 days
    assert {(u["sku"], u["value"], u["window_ends_on"]) for u in detail["units_detail"]} == {
        ("TEE-B", "9.00", ends)}
    assert detail["units_detail"][0]["defects"] == ["broken_zipper", "manufacturing_defect"]
    assert _money(client, auth)["not_sent"] == "72.00"


def test_a_sent_claim_is_announced_then_credited_and_the_scorecard_shows_the_money(
        client, auth, catalogue):
    [claim] = _gather(client, auth)
    sent = client.post(f"{URL}/{claim['id']}/send", headers=auth("planner"))
    assert sent.status_code == 200 and sent.json["status"] == "sent"
    assert _money(client, auth)["outstanding"] == _money(client, auth)["owed"] == "72.00"
    events = client.get("/api/v1/events?type=claim.sent", headers=auth("integrator")).json
    [event] = events["data"]
    assert event["payload"]["supplier"] == "BADCO" and event["payload"]["value"] == "72.00"
    assert len(event["payload"]["units"]) == 8

    credited = client.post(f"{URL}/{claim['id']}/credit",
                           json={"amount": "60.00", "reference": "CN-1"},
                           headers=auth("integrator"))
    assert credited.status_code == 200, credited.json
    assert (credited.json["status"], credited.json["credited_value"]) == ("credited", "60.00")
    money = _money(client, auth)
    assert (money["recovered"], money["written_down"], money["outstanding"]) == (
        "60.00", "12.00", "0.00")
    [event] = client.get("/api/v1/events?type=claim.credited",
                         headers=auth("integrator")).json["data"]
    assert event["payload"]["credited"] == "60.00" and event["payload"]["reference"] == "CN-1"


def test_a_claim_moves_only_along_its_states_and_a_credit_above_its_value_is_refused(
        client, auth, catalogue):
    [claim] = _gather(client, auth)
    early = client.post(f"{URL}/{claim['id']}/credit", json={"amount": "10.00"},
                        headers=auth("integrator"))
    assert early.status_code == 409 and early.json["claim_status"] == "draft"
    client.post(f"{URL}/{claim['id']}/send", headers=auth("planner"))
    too_much = client.post(f"{URL}/{claim['id']}/credit", json={"amount": "72.01"},
                           headers=auth("integrator"))
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "amount"
    # A credit note in cents is never rounded to one: 12.345 is refused, not booked as 12.34.
    fraction = client.post(f"{URL}/{claim['id']}/credit", json={"amount": "12.345"},
                           headers=auth("integrator"))
    assert fraction.status_code == 422 and fraction.json["errors"][0]["field"] == "amount"
    rejected = client.post(f"{URL}/{claim['id']}/reject", json={"reason": "worn by customer"},
                           headers=auth("integrator"))
    assert rejected.json["status"] == "rejected" and rejected.json["note"] == "worn by customer"
    again = client.post(f"{URL}/{claim['id']}/send", headers=auth("planner"))
    assert again.status_code == 409
    assert _money(client, auth)["rejected"] == "72.00"
    assert client.post(f"{URL}/999/send", headers=auth("planner")).status_code == 404


def test_a_retried_send_with_the_same_idempotency_key_is_announced_once(client, auth, catalogue):
    [claim] = _gather(client, auth)
    headers = {**auth("planner"), "Idempotency-Key": "send-1"}
    first = client.post(f"{URL}/{claim['id']}/send", headers=headers)
    second = client.post(f"{URL}/{claim['id']}/send", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    events = client.get("/api/v1/events?type=claim.sent", headers=auth("integrator")).json
    assert len(events["data"]) == 1


def test_a_claim_exports_as_csv_and_pdf_for_the_supplier(client, auth, catalogue):
    [claim] = _gather(client, auth)
    answer = client.get(f"{URL}/{claim['id']}?format=csv", headers=auth("planner"))
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 8 and {r["supplier"] for r in rows} == {"BADCO"}
    assert sum(float(r["value"]) for r in rows) == 72.0
    pdf = client.get(f"{URL}/{claim['id']}?format=pdf", headers=auth("planner"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_units_whose_claim_window_ends_soon_are_listed_until_their_claim_is_sent(
        client, auth, catalogue):
    def expiring(days):
        answer = client.get(f"{URL}/expiring?within_days={days}", headers=auth("planner"))
        return answer.json["data"]

    days_left = (SOLD_ON + timedelta(days=180) - TODAY).days
    assert expiring(days_left - 1) == []
    soon = expiring(days_left)
    assert len(soon) == 8 and {u["days_left"] for u in soon} == {days_left}
    assert {u["claim_id"] for u in soon} == {None}
    [claim] = _gather(client, auth)
    assert {u["claim_id"] for u in expiring(days_left)} == {claim["id"]}  # a draft: not sent
    client.post(f"{URL}/{claim['id']}/send", headers=auth("planner"))
    assert expiring(days_left) == []


def test_a_regrade_takes_a_unit_out_of_a_draft_claim_but_not_out_of_a_sent_one(
        client, auth, catalogue):
    [claim] = _gather(client, auth)
    first, second = [u["unit"] for u in client.get(
        f"{URL}/{claim['id']}", headers=auth("planner")).json["units_detail"]][:2]
    regrade = {"grade": "A", "reason": "the zip only needed closing"}
    moved = client.post(f"/api/v1/units/{first}/regrade", json=regrade, headers=auth("admin"))
    assert moved.status_code == 200, moved.json
    draft = client.get(f"{URL}/{claim['id']}", headers=auth("planner")).json
    assert (draft["units"], draft["value"]) == (7, "63.00")
    client.post(f"{URL}/{claim['id']}/send", headers=auth("planner"))
    refused = client.post(f"/api/v1/units/{second}/regrade", json=regrade,
                          headers=auth("admin"))
    assert refused.status_code == 409 and refused.json["claim_status"] == "sent"
    assert client.get(f"{URL}/{claim['id']}", headers=auth("planner")).json["units"] == 7
