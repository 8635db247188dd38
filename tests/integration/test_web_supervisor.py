"""The supervisor's pages: write-off approval, re-grade, exchange actions (both databases)."""

from __future__ import annotations

import re

import pytest

from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, stock_up
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def shop(uow_factory, policies):
    """Two received units of a 180.00 coat (a write-off above the approval threshold), one
    graded D and waiting for approval; and an exchange of a coat for size L, reserved."""
    coat = add_item(uow_factory, "COAT-GRY", "M", unit_cost="180.00")
    add_item(uow_factory, "COAT-GRY", "L", unit_cost="180.00")
    wh = add_location(uow_factory, "WH1")
    stock_up(uow_factory, "COAT-GRY", "L", "WH1", 3)
    add_sale(uow_factory, coat, wh, order_ref="SO-7", line_ref="1", quantity=3)
    rma = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=2, reason="quality_defect")]).rma
    units = [u.unit_id for u in receive_units(uow_factory, rma=rma, location="WH1",
                                              lines=[{"line_no": 1, "quantity": 2}],
                                              actor="dock")]
    graded = grade_unit(uow_factory, policies, unit_id=units[0], grade="D", actor="user:ana")
    exchange = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    return {"units": units, "write_off_id": graded.write_off_id,
            "exchange_id": exchange.exchanges[0]["id"]}


@pytest.fixture
def admin(client, uow_factory):
    return log_in(client, uow_factory, "admin")


def _tokens(client, path="/supervisor"):
    page = client.get(path).get_data(as_text=True)
    return page, {"csrf_token": hidden(page, "csrf_token"),
                  "submission": hidden(page, "submission")}


def _status(uow_factory, unit_id):
    with uow_factory() as uow:
        return uow.units.unit(unit_id).status.value


def test_the_overview_shows_the_write_off_with_its_value_and_approving_posts_it(
        client, uow_factory, shop, admin):
    page, form = _tokens(client)
    assert shop["units"][0] in page and "180.00" in page
    answer = client.post(f"/supervisor/write-offs/{shop['write_off_id']}/decision",
                         data={**form, "decision": "approve"})
    assert answer.status_code == 303
    assert "approved" in client.get("/supervisor").get_data(as_text=True)
    assert _status(uow_factory, shop["units"][0]) == "written_off"
    again = client.post(f"/supervisor/write-offs/{shop['write_off_id']}/decision",
                        data={**form, "decision": "approve"})  # a double click
    assert again.status_code == 303
    assert verify_ledger(uow_factory) == []


def test_sending_a_write_off_back_returns_the_unit_to_grading(client, uow_factory, shop, admin):
    _, form = _tokens(client)
    client.post(f"/supervisor/write-offs/{shop['write_off_id']}/decision",
                data={**form, "decision": "send_back"})
    assert _status(uow_factory, shop["units"][0]) == "awaiting_grading"


def test_a_re_grade_needs_a_reason_named_in_words(client, uow_factory, shop, admin, policies):
    unit_id = shop["units"][1]
    grade_unit(uow_factory, policies, unit_id=unit_id, grade="A", actor="user:ana")
    page, form = _tokens(client, f"/supervisor/regrade?unit={unit_id.lower()}")
    assert "Re-grade unit" in page and "Stain" in page
    refused = client.post(f"/supervisor/units/{unit_id}/regrade",
                          data={**form, "grade": "B", "reason": " "})
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="regrade-error"' in refused.get_data(
        as_text=True)
    done = client.post(f"/supervisor/units/{unit_id}/regrade",
                       data={**form, "grade": "B", "defects": ["stain"],
                             "reason": "missed a stain"})
    assert done.status_code == 303
    assert _status(uow_factory, unit_id) == "second_quality"
    with uow_factory() as uow:
        history = uow.units.gradings_of(uow.units.unit(unit_id).id)
    assert [(h["kind"], h["reason"]) for h in history] == [
        ("grade", None), ("regrade", "missed a stain")]


def test_a_mistyped_label_to_re_grade_is_said_on_the_supervisor_page_ready_to_scan_again(
        client, shop, admin):
    answer = client.get("/supervisor/regrade?unit=u-nope-1")
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert "No unit label matches “U-NOPE-1”" in page
    field = re.search(r'<input id="unit"[^>]*>', page).group(0)
    assert "value=" not in field  # the next scan must not be typed after the bad one
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert "Write-offs waiting for approval" in page  # the supervisor's page, not a dead end
    empty = client.get("/supervisor/regrade?unit=")
    assert empty.status_code == 404 and "Scan or type a unit label" in empty.get_data(as_text=True)


def test_an_exchange_can_be_refunded_instead_from_the_page(client, uow_factory, shop, admin):
    page, form = _tokens(client)
    assert 'id="exchanges-reserved"' in page
    answer = client.post(f"/supervisor/exchanges/{shop['exchange_id']}/refund", data=form)
    assert answer.status_code == 303
    with uow_factory() as uow:
        assert uow.returns.exchange(shop["exchange_id"])["status"] == "refunded"


def test_a_grader_cannot_open_the_supervisor_pages(client, uow_factory, shop):
    log_in(client, uow_factory, "grader")
    assert client.get("/supervisor").status_code == 403
    with client.session_transaction() as session:
        token = session["csrf_token"]
    refused = client.post(f"/supervisor/write-offs/{shop['write_off_id']}/decision",
                          data={"csrf_token": token, "submission": "s", "decision": "approve"})
    assert refused.status_code == 403
    assert _status(uow_factory, shop["units"][0]) == "pending_write_off"
