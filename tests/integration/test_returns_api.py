"""The returns API as the ERP and the grading bench use it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.factories import add_item, add_location, add_sale, image, settle_refunds, stock_up


@pytest.fixture
def sale(uow_factory):
    item_id = add_item(uow_factory, "JEANS-IND", "32", unit_cost="20.00")
    add_item(uow_factory, "JEANS-IND", "34")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-7", line_ref="A", quantity=2,
             unit_price="59.90")
    return item_id


def _events(client, headers, after=0):
    page = client.get(f"/api/v1/events?after={after}&limit=500", headers=headers).json
    return [e["type"] for e in page["data"]]


def test_authorize_receive_grade_over_http_announces_every_change(client, auth, sale):
    erp, grader = auth("integrator"), auth("grader")
    answer = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 2, "reason": "too_small"}]})
    assert answer.status_code == 201, answer.json
    rma = answer.json["rma"]
    received = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader,
                           json={"location": "WH1", "lines": [{"line_no": 1, "quantity": 2}]})
    assert received.status_code == 201
    first, second = (u["unit_id"] for u in received.json["units"])
    graded = client.post(f"/api/v1/units/{first}/grade", headers=grader,
                         json={"grade": "B", "defects": ["stain"]})
    assert graded.json["condition"] == "second_quality"
    again = client.post(f"/api/v1/units/{first}/grade", headers=grader, json={"grade": "A"})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    client.post(f"/api/v1/units/{second}/grade", headers=grader, json={"grade": "A"})
    assert client.get(f"/api/v1/returns/{rma}", headers=erp).json["settling"]
    settle_refunds(client.application)  # the scheduler's settle-refunds job
    assert not client.get(f"/api/v1/returns/{rma}", headers=erp).json["settling"]
    types = _events(client, erp)
    assert types.count("unit.received") == 2 and types.count("unit.graded") == 2
    assert types.count("refund.due") == 1 and types.count("stock.restocked") == 2
    assert types[0] == "return.authorized"
    # Refunded on inspection: owed once both units are graded, less the return shipping the
    # customer pays for a non-quality reason.
    assert types.index("refund.due") > types.index("unit.graded")
    refund = client.get("/api/v1/events?type=refund.due", headers=erp).json["data"][0]
    assert refund["payload"]["amount"] == "115.85"
    assert refund["payload"]["deductions"] == [
        {"code": "return_shipping", "label": "Return shipping", "amount": "3.95"}]


def test_a_refused_return_names_the_rule_and_is_announced(client, auth, sale):
    erp = auth("integrator")
    answer = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 3, "reason": "other"}]})
    assert answer.status_code == 422
    assert answer.json["rule"] == "quantity"
    assert answer.json["errors"][0]["field"] == "lines.0.quantity"
    assert _events(client, erp) == ["return.rejected"]


def test_an_unknown_reason_is_a_validation_error_naming_the_field(client, auth, sale):
    answer = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "bored"}]})
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "lines.0.reason"


def test_an_exchange_out_of_stock_answers_409_with_alternatives(
        client, auth, sale, uow_factory):
    stock_up(uow_factory, "JEANS-IND", "34", "WH1", 4)
    answer = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small",
                                        "resolution": "exchange", "exchange_size": "33"}]})
    assert answer.status_code == 404  # size 33 does not exist at all
    answer = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small",
                                        "resolution": "exchange", "exchange_size": "32"}]})
    assert answer.status_code == 409
    assert answer.json["alternatives"] == [
        {"sku": "JEANS-IND", "size": "34", "location": "WH1", "available": 4}]


def test_a_grader_may_not_regrade_but_an_admin_may_with_a_reason(client, auth, sale):
    grader, admin = auth("grader"), auth("admin")
    rma = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "other"}]}
    ).json["rma"]
    [unit] = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader, json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 1}]}).json["units"]
    client.post(f"/api/v1/units/{unit['unit_id']}/grade", headers=grader, json={"grade": "C"})
    body = {"grade": "A", "reason": "repaired on the spot"}
    assert client.post(f"/api/v1/units/{unit['unit_id']}/regrade", headers=grader,
                       json=body).status_code == 403
    assert client.post(f"/api/v1/units/{unit['unit_id']}/regrade", headers=admin,
                       json={"grade": "A"}).status_code == 422
    answer = client.post(f"/api/v1/units/{unit['unit_id']}/regrade", headers=admin, json=body)
    assert answer.json["condition"] == "sellable"
    history = client.get(f"/api/v1/units/{unit['unit_id']}", headers=grader).json["history"]
    assert [h["kind"] for h in history] == ["grade", "regrade"]
    assert all(datetime.fromisoformat(h["at"]).utcoffset() == timedelta(0) for h in history)


def test_an_exchange_reservation_says_when_it_expires_in_utc(client, auth, sale, uow_factory):
    stock_up(uow_factory, "JEANS-IND", "34", "WH1", 4)
    answer = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small",
                                        "resolution": "exchange", "exchange_size": "34"}]})
    assert answer.status_code == 201, answer.json
    shown = client.get(f"/api/v1/returns/{answer.json['rma']}", headers=auth("grader")).json
    [exchange] = shown["exchanges"]
    expires = datetime.fromisoformat(exchange["expires_at"])
    assert expires.utcoffset() == timedelta(0) and expires > datetime.now(UTC)


def test_photos_of_a_unit_are_stored_checked_and_served_only_to_token_holders(
        client, auth, sale, settings):
    grader = auth("grader")
    rma = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "other"}]}
    ).json["rma"]
    [unit] = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader, json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 1}]}).json["units"]
    url = f"/api/v1/units/{unit['unit_id']}/photos"
    # Bigger than the API's 2 MiB body limit, within the grading policy's photo limit.
    png = image("PNG", (1024, 1024), noise=True)
    assert len(png) > 3 * 1024 * 1024
    stored = client.post(url, headers=grader, data={"photo": (io.BytesIO(png),
                                                              "stain.png", "image/png")})
    assert stored.status_code == 201, stored.json
    [photo] = stored.json["photos"]
    served = client.get(photo["url"], headers=grader)
    assert served.status_code == 200 and served.data == png
    assert client.get(photo["url"]).status_code == 401
    fake = client.post(url, headers=grader, data={"photo": (io.BytesIO(
        b"hello"), "note.png", "image/png")})
    assert fake.status_code == 422 and fake.json["errors"][0]["field"] == "photo.0"
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (40 * 1024 * 1024)
    too_big = client.post(url, headers=grader, data={"photo": (io.BytesIO(huge),
                                                               "big.png", "image/png")})
    assert too_big.status_code == 413
    assert len(client.get(f"/api/v1/units/{unit['unit_id']}", headers=grader).json["photos"]) == 1


def test_admins_find_costly_write_offs_waiting_and_blind_receipts_to_review(client, auth, sale,
                                                                             uow_factory):
    add_item(uow_factory, "COAT-RED", "L", unit_cost="150.00")
    grader, admin = auth("grader"), auth("admin")
    [blind] = client.post("/api/v1/receipts/blind", headers=grader, json={
        "sku": "COAT-RED", "size": "L", "location": "WH1", "note": "no paperwork"}).json["units"]
    flagged = client.get("/api/v1/units?flagged_for_review=true", headers=grader).json["data"]
    assert [u["unit_id"] for u in flagged] == [blind["unit_id"]]
    assert flagged[0]["note"] == "no paperwork" and flagged[0]["rma"] is None
    waiting_units = client.get("/api/v1/units?status=awaiting_grading", headers=grader).json
    assert blind["unit_id"] in [u["unit_id"] for u in waiting_units["data"]]
    # A status that does not exist is a mistake to point out, not an empty list.
    unknown = client.get("/api/v1/units?status=received", headers=grader)
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "status"
    graded = client.post(f"/api/v1/units/{blind['unit_id']}/grade", headers=grader,
                         json={"grade": "D", "defects": ["tear"], "note": "torn sleeve"}).json
    assert graded["awaiting_approval"]
    # The dock's note is the only record of where the parcel came from: grading keeps it.
    shown = client.get(f"/api/v1/units/{blind['unit_id']}", headers=grader).json
    assert shown["receiving_note"] == "no paperwork"
    assert [h["note"] for h in shown["history"]] == ["torn sleeve"]
    [waiting] = client.get("/api/v1/write-offs", headers=admin).json["data"]
    assert (waiting["id"], waiting["value"], waiting["sku"]) == (
        graded["write_off_id"], "150.00", "COAT-RED")
    assert client.get("/api/v1/write-offs", headers=grader).status_code == 403
    client.post(f"/api/v1/write-offs/{waiting['id']}/decision", headers=admin,
                json={"approve": True})
    assert client.get("/api/v1/write-offs", headers=admin).json["data"] == []
    posted = client.get("/api/v1/write-offs?status=posted", headers=admin).json["data"]
    assert [w["id"] for w in posted] == [waiting["id"]]


def test_a_request_date_cannot_reopen_a_closed_window(client, auth, uow_factory):
    item_id = add_item(uow_factory, "TEE-OLD", "M")
    location_id = add_location(uow_factory, "WH9")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-OLD",
             sold_on=date.today() - timedelta(days=400))
    body = {"order_ref": "SO-OLD", "lines": [{"line_ref": "1", "quantity": 1,
                                               "reason": "changed_mind"}]}
    late = client.post("/api/v1/returns", headers=auth("integrator"), json=body)
    assert late.status_code == 422 and late.json["rule"] == "return_window"
    backdated = client.post("/api/v1/returns", headers=auth("integrator"),
                            json={**body, "requested_on": "1999-01-01"})
    assert backdated.status_code == 422
    assert backdated.json["errors"][0]["field"] == "requested_on"


def test_the_customers_note_on_the_return_reaches_the_bench(client, auth, sale):
    rma = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7", "customer_note": "Zip sticks halfway",
        "lines": [{"line_ref": "A", "quantity": 1, "reason": "quality_defect",
                   "note": "left leg"}]}).json["rma"]
    assert client.get(f"/api/v1/returns/{rma}",
                      headers=auth("grader")).json["customer_note"] == "Zip sticks halfway"
    [unit] = client.post(f"/api/v1/returns/{rma}/receipts", headers=auth("grader"), json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 1}]}).json["units"]
    shown = client.get(f"/api/v1/units/{unit['unit_id']}", headers=auth("grader")).json
    assert (shown["customer_note"], shown["return_note"]) == ("left leg", "Zip sticks halfway")


def test_an_expired_exchange_is_listed_then_reserved_again_or_refunded_over_http(
        client, auth, sale, uow_factory):
    from returns_inventory.services.exchanges import release_expired_reservations

    erp, grader = auth("integrator"), auth("grader")
    stock_up(uow_factory, "JEANS-IND", "34", "WH1", 1)
    rma = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small",
                                        "resolution": "exchange", "exchange_size": "34"}]}
    ).json["rma"]
    release_expired_reservations(uow_factory, now=datetime.now(UTC) + timedelta(days=365))
    listed = client.get("/api/v1/exchanges?status=released", headers=erp).json["data"]
    assert [(x["rma"], x["line_no"], x["size"], x["status"]) for x in listed] == [
        (rma, 1, "34", "released")]
    exchange_id = listed[0]["id"]
    assert client.post(f"/api/v1/exchanges/{exchange_id}/reserve",
                       headers=auth("planner")).status_code == 403
    assert client.post("/api/v1/exchanges/999999/reserve", headers=erp).status_code == 404
    again = client.post(f"/api/v1/exchanges/{exchange_id}/reserve", headers=erp)
    assert again.status_code == 200, again.json
    assert (again.json["status"], again.json["location"]) == ("reserved", "WH1")
    client.post(f"/api/v1/returns/{rma}/receipts", headers=grader,
                json={"location": "WH1", "lines": [{"line_no": 1, "quantity": 1}]})
    refunded = client.post(f"/api/v1/exchanges/{exchange_id}/refund", headers=erp)
    # Refunded on inspection: nothing is owed for the unit until it is graded.
    assert refunded.json == {"exchange_id": exchange_id, "status": "refunded", "quantity": 1,
                             "refund_due": None}
    assert client.post(f"/api/v1/exchanges/{exchange_id}/refund",
                       headers=erp).status_code == 409
    assert client.get("/api/v1/exchanges?status=released", headers=erp).json["data"] == []
    assert client.get("/api/v1/exchanges", headers=erp).status_code == 422
    shown = client.get(f"/api/v1/returns/{rma}", headers=erp).json
    assert shown["lines"][0]["resolution"] == "refund"


def test_reserving_an_expired_exchange_again_without_stock_answers_409_with_alternatives(
        client, auth, sale, uow_factory):
    from returns_inventory.services.exchanges import release_expired_reservations

    erp = auth("integrator")
    stock_up(uow_factory, "JEANS-IND", "34", "WH1", 1)
    client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7", "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small",
                                        "resolution": "exchange", "exchange_size": "34"}]})
    release_expired_reservations(uow_factory, now=datetime.now(UTC) + timedelta(days=365))
    stock_up(uow_factory, "JEANS-IND", "34", "WH1", -1)
    stock_up(uow_factory, "JEANS-IND", "32", "WH1", 3)
    [listed] = client.get("/api/v1/exchanges?status=released", headers=erp).json["data"]
    answer = client.post(f"/api/v1/exchanges/{listed['id']}/reserve", headers=erp)
    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json["alternatives"] == [
        {"sku": "JEANS-IND", "size": "32", "location": "WH1", "available": 3}]
    [still] = client.get("/api/v1/exchanges?status=released", headers=erp).json["data"]
    assert still["id"] == listed["id"]


def test_a_problem_in_a_later_line_names_that_line_as_schema_errors_do(client, auth, sale):
    erp, grader = auth("integrator"), auth("grader")
    answer = client.post("/api/v1/returns", headers=erp, json={"order_ref": "SO-7", "lines": [
        {"line_ref": "A", "quantity": 1, "reason": "other"},
        {"line_ref": "B", "quantity": 1, "reason": "other"}]})
    assert answer.status_code == 404
    assert answer.json["errors"] == [{"field": "lines.1.line_ref", "reason": "unknown sale line"}]
    rma = client.post("/api/v1/returns", headers=erp, json={"order_ref": "SO-7", "lines": [
        {"line_ref": "A", "quantity": 1, "reason": "other"}]}).json["rma"]
    answer = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader, json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}]})
    assert answer.status_code == 409
    assert answer.json["errors"] == [{"field": "lines.1.quantity",
                                      "reason": "more than authorized"}]


def test_a_repaired_unit_comes_back_as_a_or_b_or_is_scrapped_and_nothing_else(
        client, auth, sale):
    erp, grader = auth("integrator"), auth("grader")
    rma = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-7",
        "lines": [{"line_ref": "A", "quantity": 1, "reason": "too_small"}]}).json["rma"]
    [unit] = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader, json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 1}]}).json["units"]
    graded = client.post(f"/api/v1/units/{unit['unit_id']}/grade", headers=grader,
                         json={"grade": "C"})
    assert (graded.json["disposition"], graded.json["condition"]) == ("repair", "repair")
    wrong = client.post(f"/api/v1/units/{unit['unit_id']}/repair-outcome", headers=grader,
                        json={"outcome": "C"})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "outcome"
    back = client.post(f"/api/v1/units/{unit['unit_id']}/repair-outcome", headers=grader,
                       json={"outcome": "B"})
    assert back.status_code == 200, back.json
    assert (back.json["grade"], back.json["condition"]) == ("B", "second_quality")
