"""The receiving page: count a parcel against its return, receive, print labels (both databases)."""

from __future__ import annotations

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def rma(uow_factory):
    """A return of 2 TEE-BLK M (too small, with a note) and 1 TEE-WHT L, nothing received."""
    policies = Policies.from_settings(Settings.load(env={}))
    black = add_item(uow_factory, "TEE-BLK", "M", gtin="04006381333931")
    white = add_item(uow_factory, "TEE-WHT", "L")
    add_item(uow_factory, "SOCK-RED", "42", gtin="04012345678901")
    wh = add_location(uow_factory, "WH1")
    add_sale(uow_factory, black, wh, order_ref="SO-7", line_ref="1", quantity=2)
    add_sale(uow_factory, white, wh, order_ref="SO-7", line_ref="2", quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=2, reason="too_small", note="Runs small"),
        ReturnLineRequest(line_ref="2", quantity=1, reason="too_large")])
    return view.rma


@pytest.fixture
def grader(client, uow_factory):
    return log_in(client, uow_factory, "grader")


def _form(client, rma, **fields):
    page = client.get(f"/station/receive?rma={rma.lower()}").get_data(as_text=True)
    return {"csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
            "location": "WH1", "count-1": "2", "count-2": "1", **fields}


def _units(uow_factory):
    with uow_factory() as uow:
        return uow.units.units_for_review(status=None, flagged=None, limit=100, after=None)


def test_scanning_an_rma_shows_its_lines_to_count_with_all_expected(client, rma, grader):
    page = client.get(f"/station/receive?rma={rma.lower()}").get_data(as_text=True)
    for shown in (rma, "TEE-BLK", "TEE-WHT", "Too small", "Runs small"):
        assert shown in page
    assert 'name="count-1" inputmode="numeric" pattern="[0-9]*" size="4"\n' \
           '                 value="2"' in page


def test_receiving_a_parcel_gives_unit_ids_and_offers_their_labels(
        client, uow_factory, rma, grader):
    answer = client.post(f"/station/receive/{rma}", data=_form(client, rma, note="box crushed"))
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    units = _units(uow_factory)
    assert len(units) == 3 and not any(u["flagged_for_review"] for u in units)
    assert all(u["note"] == "box crushed" for u in units)
    for unit in units:
        assert unit["unit_code"] in page
    assert "Print labels" in page
    pdf = client.get(f"/station/labels.pdf?unit={units[0]['unit_code']}&layout=a4")
    assert pdf.mimetype == "application/pdf"
    assert verify_ledger(uow_factory) == []


def test_the_same_receipt_sent_twice_receives_once(client, uow_factory, rma, grader):
    form = _form(client, rma)
    first = client.post(f"/station/receive/{rma}", data=form)
    second = client.post(f"/station/receive/{rma}", data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_units(uow_factory)) == 3


def test_more_units_than_expected_are_said_in_words_then_received_blind_for_review(
        client, uow_factory, rma, grader):
    form = _form(client, rma, **{"count-1": "3", "other_items": "04012345678901\n"})
    asked = client.post(f"/station/receive/{rma}", data=form)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _units(uow_factory) == []
    assert "3 counted but only 2 expected" in page
    assert "SOCK-RED size 42 is not on" in page
    received = client.post(f"/station/receive/{rma}",
                           data={**form, "confirmed": hidden(page, "confirmed")})
    assert received.status_code == 303
    units = _units(uow_factory)
    flagged = [u for u in units if u["flagged_for_review"]]
    assert len(units) == 5
    assert sorted((u["sku"], u["note"].split(" of ")[0]) for u in flagged) == [
        ("SOCK-RED", "in the parcel"), ("TEE-BLK", "1 more than expected on line 1")]
    with uow_factory() as uow:
        assert uow.returns.return_by_rma(rma)["status"] == "received"


def test_a_confirmation_does_not_cover_a_different_recount(client, uow_factory, rma, grader):
    form = _form(client, rma, **{"count-1": "3"})
    page = client.post(f"/station/receive/{rma}", data=form).get_data(as_text=True)
    recount = client.post(f"/station/receive/{rma}", data={
        **form, "count-1": "5", "confirmed": hidden(page, "confirmed")})
    assert "5 counted but only 2 expected" in recount.get_data(as_text=True)
    assert _units(uow_factory) == []


def test_a_bad_count_or_unknown_item_names_the_field_and_receives_nothing(
        client, uow_factory, rma, grader):
    bad = client.post(f"/station/receive/{rma}", data=_form(client, rma, **{"count-2": "two"}))
    assert bad.status_code == 422
    assert 'id="count-2"' in bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    unknown = client.post(f"/station/receive/{rma}",
                          data=_form(client, rma, other_items="HAT-X 9"))
    assert unknown.status_code == 422
    assert "no item “HAT-X 9”" in unknown.get_data(as_text=True)
    assert _units(uow_factory) == []


def test_a_note_too_long_is_refused_by_name_not_cut_short(client, uow_factory, rma, grader):
    long_note = "x" * 2001
    counted = client.post(f"/station/receive/{rma}", data=_form(client, rma, note=long_note))
    assert counted.status_code == 422
    assert "at most 2000 characters" in counted.get_data(as_text=True)
    page = client.get("/station/receive/blind").get_data(as_text=True)
    blind = client.post("/station/receive/blind", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "gtin": "04006381333931", "quantity": "1", "location": "WH1", "note": long_note})
    assert blind.status_code == 422
    assert _units(uow_factory) == []


def test_an_unknown_rma_is_explained_in_words(client, rma, grader):
    answer = client.get("/station/receive?rma=RMA-NOPE")
    assert answer.status_code == 404
    assert "No return matches “RMA-NOPE”" in answer.get_data(as_text=True)


def test_a_parcel_without_an_rma_is_received_by_gtin_and_flagged(client, uow_factory, rma,
                                                                  grader):
    page = client.get("/station/receive/blind").get_data(as_text=True)
    answer = client.post("/station/receive/blind", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "gtin": "04006381333931", "quantity": "2", "location": "WH1", "note": "no slip"})
    assert answer.status_code == 303
    assert "blind receipts" in client.get(answer.headers["Location"]).get_data(as_text=True)
    units = _units(uow_factory)
    assert [(u["sku"], u["flagged_for_review"]) for u in units] == [("TEE-BLK", True)] * 2


def test_a_sku_typed_in_lower_case_finds_the_item(client, uow_factory, rma, grader):
    page = client.get("/station/receive/blind").get_data(as_text=True)
    answer = client.post("/station/receive/blind", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "sku": "tee-wht", "size": "l", "quantity": "1", "location": "WH1"})
    assert answer.status_code == 303
    assert [(u["sku"], u["size"]) for u in _units(uow_factory)] == [("TEE-WHT", "L")]


def test_a_planner_cannot_receive(client, uow_factory, rma):
    log_in(client, uow_factory, "planner")
    assert client.get(f"/station/receive?rma={rma}").status_code == 403
