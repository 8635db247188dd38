"""The grading station page: scan, grade with one form, see where the unit goes (both databases)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, image
from tests.integration.web_support import hidden, log_in

PNG = image("PNG")


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def returned(uow_factory, policies):
    """An RMA for 2 units of TEE-BLK size M (too small, with a note), both received at WH1."""
    item_id = add_item(uow_factory, "TEE-BLK", "M", description="Black tee, organic cotton")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-7", line_ref="1", quantity=2)
    view = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=2, reason="too_small",
                          note="Runs a size small")])
    units = receive_units(uow_factory, rma=view.rma, location="WH1",
                          lines=[{"line_no": 1, "quantity": 2}], actor="dock")
    return view.rma, [u.unit_id for u in units]


@pytest.fixture
def grader(client, uow_factory):
    return log_in(client, uow_factory, "grader")


def _balance(uow_factory, condition):
    with uow_factory() as uow:
        rows, _ = uow.stock.list_balances(offset=0, limit=10, sku="TEE-BLK", size="M",
                                          location="WH1", condition=condition)
    return rows[0].on_hand if rows else 0


def _form(client, unit_id):
    page = client.get(f"/station/units/{unit_id}").get_data(as_text=True)
    return {"csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission")}


def _pressed(page):
    """The grade buttons the page shows as chosen."""
    return re.findall(r'data-key="([A-D])"[^>]*aria-pressed="true"', page)


def _write_offs(uow_factory, unit_id):
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
        return uow.units.pending_write_off_of(unit.id), unit.status.value


def _gradings(uow_factory, unit_id):
    with uow_factory() as uow:
        return uow.units.gradings_of(uow.units.unit(unit_id).id)


def test_scanning_a_unit_and_grading_it_B_shows_where_it_goes_and_moves_the_stock(
        client, uow_factory, returned, grader):
    rma, (unit_id, _) = returned
    scanned = client.get(f"/station?code={unit_id.lower()}")
    assert scanned.status_code == 302
    page = client.get(scanned.headers["Location"]).get_data(as_text=True)
    for shown in ["TEE-BLK", "Black tee, organic cotton", ">M<", "Too small", "Runs a size small",
                  rma, "Resell as new", "Second quality / outlet", "Stain"]:
        assert shown in page
    response = client.post(f"/station/units/{unit_id}/grade", data={
        **_form(client, unit_id), "grade": "B", "defects": ["stain"], "note": "small mark"})
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Restock as second quality" in result
    assert "Outlet bin: second quality" in result
    assert "grade B" in result  # the rule that decided
    assert _balance(uow_factory, "quarantine") == 1
    assert _balance(uow_factory, "second_quality") == 1
    [grading] = _gradings(uow_factory, unit_id)
    assert (grading["actor"], grading["defects"], grading["note"]) == (
        "user:grader1", ["stain"], "small mark")
    assert verify_ledger(uow_factory) == []


def test_a_unit_graded_for_repair_is_said_to_move_to_repair_stock(
        client, uow_factory, returned, grader):
    """"repair" is a disposition and a stock condition: the stock line names the stock the
    unit went to, not the disposition again ("moved to Send to repair")."""
    _, (unit_id, _) = returned
    response = client.post(f"/station/units/{unit_id}/grade", data={
        **_form(client, unit_id), "grade": "C"})
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Send to repair" in result  # the disposition
    assert "moved from quarantine to <strong>repair stock</strong> at WH1" in result
    assert _balance(uow_factory, "repair") == 1


def test_scanning_an_rma_lists_only_its_units_still_waiting(
        client, uow_factory, policies, returned, grader):
    rma, (first, second) = returned
    grade_unit(uow_factory, policies, unit_id=first, grade="A", actor="someone")
    page = client.get(f"/station?code={rma}").get_data(as_text=True)
    assert second in page and first not in page
    assert f"{rma}: units waiting for grading" in page


def test_the_same_form_sent_twice_grades_once_and_shows_the_first_result(
        client, uow_factory, returned, grader):
    _, (unit_id, _) = returned
    form = {**_form(client, unit_id), "grade": "A"}
    first = client.post(f"/station/units/{unit_id}/grade", data=form)
    second = client.post(f"/station/units/{unit_id}/grade", data={**form, "grade": "D"})
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].endswith("?again=1")
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Restock as sellable" in page and "not graded twice" in page
    assert len(_gradings(uow_factory, unit_id)) == 1
    assert _balance(uow_factory, "sellable") == 1
    with uow_factory() as uow:
        assert uow.events.count("unit.graded") == 1


def test_an_unknown_label_is_explained_in_words(client, returned, grader):
    response = client.get("/station?code=NOPE-123")
    assert response.status_code == 404
    assert "No unit label or RMA matches “NOPE-123”" in response.get_data(as_text=True)
    assert client.get("/station/units/NOPE-123").status_code == 404


def test_an_already_graded_unit_says_so_and_a_stale_form_grades_nothing(
        client, uow_factory, policies, returned, grader):
    _, (unit_id, _) = returned
    form = {**_form(client, unit_id), "grade": "C"}
    grade_unit(uow_factory, policies, unit_id=unit_id, grade="A", actor="other-bench")
    response = client.post(f"/station/units/{unit_id}/grade", data=form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "already graded" in page and "Traceback" not in page
    assert "Already graded" in client.get(f"/station/units/{unit_id}").get_data(as_text=True)
    assert len(_gradings(uow_factory, unit_id)) == 1


def test_a_file_that_is_not_an_image_is_refused_in_words_and_nothing_is_graded(
        client, uow_factory, returned, grader, tmp_path):
    _, (unit_id, _) = returned
    form = _form(client, unit_id)
    response = client.post(f"/station/units/{unit_id}/grade", data={
        **form, "grade": "B", "defects": ["tear"],
        "photos": (io.BytesIO(b"just text"), "note.txt", "text/plain")})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "note.txt is not an accepted image type" in page
    assert hidden(page, "grade") == "B" and _pressed(page) == ["B"]  # choice kept
    assert _gradings(uow_factory, unit_id) == []
    retried = client.post(f"/station/units/{unit_id}/grade", data={
        **form, "grade": "B", "photos": (io.BytesIO(PNG), "front.png", "image/png")})
    assert retried.status_code == 303
    with uow_factory() as uow:
        assert len(uow.units.photos_of(uow.units.unit(unit_id).id)) == 1


def test_a_planner_cannot_grade_at_the_station(client, uow_factory, returned):
    _, (unit_id, _) = returned
    log_in(client, uow_factory, "planner")
    page = client.get(f"/station/units/{unit_id}")
    assert page.status_code == 403
    assert "Not for your role" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        token = session["csrf_token"]
    response = client.post(f"/station/units/{unit_id}/grade", data={
        "csrf_token": token, "submission": "x1", "grade": "A"})
    assert response.status_code == 403
    assert _gradings(uow_factory, unit_id) == []


def test_a_grade_form_without_its_csrf_token_grades_nothing(
        client, uow_factory, returned, grader):
    _, (unit_id, _) = returned
    form = _form(client, unit_id)
    response = client.post(f"/station/units/{unit_id}/grade", data={
        "submission": form["submission"], "grade": "A"})
    assert response.status_code == 400
    assert _gradings(uow_factory, unit_id) == []


def test_an_admin_may_grade_at_the_station_too(client, uow_factory, returned):
    _, (unit_id, _) = returned
    log_in(client, uow_factory, "admin")
    response = client.post(f"/station/units/{unit_id}/grade",
                           data={**_form(client, unit_id), "grade": "A"})
    assert response.status_code == 303


@pytest.mark.postgres_only
def test_two_clicks_arriving_at_the_same_moment_grade_once(committing_db, backend, policies,
                                                          tmp_path):
    """Real threads and transactions: both requests answer with the one grading."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial
    from threading import Barrier

    from returns_inventory.persistence.uow import UnitOfWork
    from returns_inventory.services.station import grade_at_bench

    uow_factory = partial(UnitOfWork, committing_db)
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-9", line_ref="1", quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-9", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="changed_mind")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="dock")
    start = Barrier(2)

    def click(grade):
        start.wait()
        return grade_at_bench(uow_factory, policies, tmp_path, submission="same-form",
                              unit_id=unit.unit_id, grade=grade, defects=[], note=None,
                              photos=[], actor="user:grader1")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(click, ["A", "A"]))
    assert sorted(a.replayed for a in answers) == [False, True]
    assert answers[0].result == answers[1].result
    assert len(_gradings(uow_factory, unit.unit_id)) == 1
    assert verify_ledger(uow_factory) == []


def test_a_grade_that_writes_the_unit_off_shows_its_value_and_grades_nothing_unconfirmed(
        client, uow_factory, returned, grader):
    """A stray D (a scanned label's last letter, a script that failed) never writes off."""
    _, (unit_id, _) = returned
    form = {**_form(client, unit_id), "grade": "D", "defects": ["tear"], "note": "torn seam"}
    response = client.post(f"/station/units/{unit_id}/grade", data={
        **form, "photos": (io.BytesIO(PNG), "front.png", "image/png")})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"Write off unit {unit_id}?" in page and "<dialog" in page and " open>" in page
    assert 'name="confirm_write_off" value="8.50"' in page  # the value, shown and confirmed
    assert "It leaves stock as soon as you confirm." in page
    assert "choose them again" in page  # the photo was not kept
    assert hidden(page, "grade") == "D" and _pressed(page) == ["D"]
    assert 'value="tear"\n      checked' in page and 'value="torn seam"' in page
    assert _gradings(uow_factory, unit_id) == []
    assert _balance(uow_factory, "quarantine") == 2
    with uow_factory() as uow:
        assert uow.units.photos_of(uow.units.unit(unit_id).id) == []
        assert uow.events.count("stock.written_off") == 0

    # A confirmation of another value (the cost changed, a hand-made form) is asked again.
    again = client.post(f"/station/units/{unit_id}/grade",
                        data={**form, "confirm_write_off": "1.00"})
    assert again.status_code == 200 and f"Write off unit {unit_id}?" in again.get_data(as_text=True)
    assert _gradings(uow_factory, unit_id) == []

    confirmed = client.post(f"/station/units/{unit_id}/grade",
                            data={**form, "confirm_write_off": "8.50"})
    assert confirmed.status_code == 303
    result = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    # Under the approval limit the write-off is posted: the station says so, not "keep it".
    assert "Write-off bin: already written off, no approval needed" in result
    assert "until a supervisor approves" not in result and "value 8.50" in result
    assert _write_offs(uow_factory, unit_id) == (None, "written_off")
    assert _balance(uow_factory, "quarantine") == 1
    assert verify_ledger(uow_factory) == []


def test_a_costly_write_off_is_confirmed_and_then_kept_for_a_supervisor(
        client, uow_factory, policies, grader):
    item_id = add_item(uow_factory, "COAT-WOOL", "L", unit_cost="240.00")
    location_id = add_location(uow_factory, "WH2")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-8", line_ref="1", quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-8", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="changed_mind")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH2",
                           lines=[{"line_no": 1, "quantity": 1}], actor="dock")
    form = {**_form(client, unit.unit_id), "grade": "D"}
    asked = client.post(f"/station/units/{unit.unit_id}/grade", data=form).get_data(as_text=True)
    assert 'value="240.00"' in asked and "until a supervisor approves" in asked
    response = client.post(f"/station/units/{unit.unit_id}/grade",
                           data={**form, "confirm_write_off": "240.00"})
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Write-off cage: keep it until a supervisor approves" in result
    assert "already written off" not in result
    pending, status = _write_offs(uow_factory, unit.unit_id)
    assert pending["value"] == Decimal("240.00") and status == "pending_write_off"
    again = client.get(f"/station/units/{unit.unit_id}").get_data(as_text=True)
    assert "Already graded" in again and "Write-off cage: keep it until" in again


def test_the_page_can_ask_what_a_grade_would_do_before_sending_it(
        client, uow_factory, returned, grader):
    _, (unit_id, _) = returned
    url = f"/station/units/{unit_id}/outcome"
    written_off = client.get(url, query_string={"grade": "D"}).get_json()
    assert written_off.pop("customer")["outcome"] == "accept"
    assert written_off == {
        "disposition": "write_off", "write_off_value": "8.50", "awaiting_approval": False,
        "where_to_put": "Write-off bin: already written off, no approval needed"}
    second = client.get(url, query_string={"grade": "B", "defects": ["stain"]}).get_json()
    assert (second["disposition"], second["write_off_value"]) == ("restock_second_quality", None)
    # A rule may keep a D from being a write-off: then there is nothing to confirm.
    vendor = client.get(url, query_string={"grade": "D", "defects": "manufacturing_defect"})
    assert vendor.get_json()["write_off_value"] is None
    vendor_grade = client.post(f"/station/units/{unit_id}/grade", data={
        **_form(client, unit_id), "grade": "D", "defects": ["manufacturing_defect"]})
    assert vendor_grade.status_code == 303
    assert client.get(url, query_string={"grade": "E"}).status_code == 422
    assert _gradings(uow_factory, unit_id)[0]["disposition"] == "return_to_vendor"


def test_a_write_off_decided_only_inside_the_grading_transaction_still_needs_its_confirm(
        client, uow_factory, returned, grader, monkeypatch):
    """The early look (before photos are stored) can be overtaken, e.g. by a new cost."""
    from returns_inventory.services import station

    _, (unit_id, _) = returned
    monkeypatch.setattr(station, "foresee", lambda *a, **k: station.Foreseen("repair", ""))
    response = client.post(f"/station/units/{unit_id}/grade", data={
        **_form(client, unit_id), "grade": "D",
        "photos": (io.BytesIO(PNG), "front.png", "image/png")})  # the early look runs for these
    assert response.status_code == 200
    assert 'name="confirm_write_off" value="8.50"' in response.get_data(as_text=True)
    assert _gradings(uow_factory, unit_id) == []
    assert _write_offs(uow_factory, unit_id) == (None, "awaiting_grading")
    assert _balance(uow_factory, "quarantine") == 2


def test_the_page_tells_what_the_customer_gets_before_grading(client, returned, grader):
    _, (unit_id, _) = returned
    url = f"/station/units/{unit_id}/outcome"
    full = client.get(url, query_string={"grade": "A"}).get_json()["customer"]
    assert (full["outcome"], full["amount"], full["deductions"]) == ("accept", "25.00", [])
    tagless = client.get(url, query_string={"grade": "A", "defects": "missing_tag"}).get_json()
    assert (tagless["customer"]["outcome"], tagless["customer"]["amount"]) == ("deduct", "22.50")
    worn = client.get(url, query_string={"grade": "D", "defects": "worn_or_washed"}).get_json()
    # Refused: it goes back to the customer, so nothing is written off and nothing to confirm.
    assert (worn["customer"]["outcome"], worn["disposition"], worn["write_off_value"]) == (
        "refuse", "return_to_customer", None)
    assert worn["where_to_put"].startswith("Send back to customer")


def test_a_refused_unit_put_away_says_send_back_to_customer_with_its_label(
        client, returned, grader):
    rma, (unit_id, _) = returned
    answer = client.post(f"/station/units/{unit_id}/grade", data={
        **_form(client, unit_id), "grade": "B", "defects": ["worn_or_washed"]})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Send back to customer" in page
    assert 'id="send-back-label"' in page and rma in page
    assert "refused: sent back, no refund" in page
