"""A grader undoes their own last grade within the window, as a correction (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.domain.errors import Conflict
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.settlement import settle_all
from returns_inventory.services.stock import verify_ledger
from returns_inventory.services.undo import undo_last_grade, undoable_until
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def units(uow_factory, policies):
    """Three received units of TEE-BLK M at WH1 (unit cost 180.00: a write-off above the
    default approval threshold waits for a supervisor)."""
    item_id = add_item(uow_factory, "TEE-BLK", "M", unit_cost="180.00")
    wh = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, wh, order_ref="SO-7", line_ref="1", quantity=3)
    view = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=3, reason="too_small")])
    received = receive_units(uow_factory, rma=view.rma, location="WH1",
                             lines=[{"line_no": 1, "quantity": 3}], actor="dock")
    return [u.unit_id for u in received]


def _on_hand(uow_factory):
    with uow_factory() as uow:
        rows, _ = uow.stock.list_balances(offset=0, limit=10, sku="TEE-BLK", size="M",
                                          location="WH1", condition=None)
    return {r.condition.value if hasattr(r.condition, "value") else r.condition: r.on_hand
            for r in rows if r.on_hand}


def _unit(uow_factory, unit_id):
    with uow_factory() as uow:
        return uow.units.unit(unit_id)


def _graded_events(uow_factory):
    with uow_factory() as uow:
        return [e.payload for e in uow.events.after(0, limit=100, event_type="unit.graded")]


def test_undo_puts_the_unit_back_to_quarantine_through_the_ledger_and_announces_a_correction(
        uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="A", actor="user:ana")
    assert _on_hand(uow_factory) == {"quarantine": 2, "sellable": 1}
    undone = undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    assert (undone.undone_grade, undone.status) == ("A", "awaiting_grading")
    assert _on_hand(uow_factory) == {"quarantine": 3}
    unit = _unit(uow_factory, units[0])
    assert (unit.status.value, unit.grade, unit.condition.value) == (
        "awaiting_grading", None, "quarantine")
    with uow_factory() as uow:
        kinds = [h["kind"] for h in uow.units.gradings_of(unit.id)]
        movements = uow.stock.list_movements(after=None, limit=10, reference=units[0])
    assert kinds == ["grade", "undo"]  # the grade stays in the history; nothing is edited
    # received; graded: out of quarantine, into sellable; undone: out of sellable, back in
    assert [(m.condition, m.quantity) for m in movements] == [
        ("quarantine", 1), ("quarantine", -1), ("sellable", 1), ("sellable", -1),
        ("quarantine", 1)]
    *_, correction = _graded_events(uow_factory)
    assert correction["kind"] == "undo" and correction["correction"] is True
    assert correction["undoes"] == {"grade": "A", "disposition": "restock_sellable"}
    assert verify_ledger(uow_factory) == []
    grade_unit(uow_factory, policies, unit_id=units[0], grade="B", actor="user:ana")
    assert _on_hand(uow_factory) == {"quarantine": 2, "second_quality": 1}


def test_undoing_twice_is_refused_in_words_and_moves_nothing(uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="B", actor="user:ana")
    undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    with pytest.raises(Conflict, match="already undone"):
        undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    assert _on_hand(uow_factory) == {"quarantine": 3}


def test_another_graders_grade_cannot_be_undone(uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="A", actor="user:ana")
    with pytest.raises(Conflict, match="only your own last grade"):
        undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:bob")
    assert undoable_until(uow_factory, policies, unit_id=units[0], actor="user:bob") is None


def test_only_the_graders_last_grade_can_be_undone(uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="A", actor="user:ana")
    grade_unit(uow_factory, policies, unit_id=units[1], grade="A", actor="user:ana")
    with pytest.raises(Conflict, match=f"You have graded unit {units[1]} since"):
        undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    undo_last_grade(uow_factory, policies, unit_id=units[1], actor="user:ana")


def test_the_undo_window_closes_after_the_configured_time(uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="A", actor="user:ana")
    later = datetime.now(UTC) + timedelta(seconds=policies.grading.undo_window_seconds + 1)
    with pytest.raises(Conflict, match="more than 2 minutes ago"):
        undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana", now=later)
    until = undoable_until(uow_factory, policies, unit_id=units[0], actor="user:ana")
    assert until is not None and until < later
    assert _on_hand(uow_factory) == {"quarantine": 2, "sellable": 1}


def test_undoing_a_write_off_waiting_for_approval_withdraws_it(uow_factory, policies, units):
    graded = grade_unit(uow_factory, policies, unit_id=units[0], grade="D", actor="user:ana")
    assert graded.awaiting_approval
    undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    with uow_factory() as uow:
        assert uow.units.write_off(graded.write_off_id)["status"] == "superseded"
    assert _on_hand(uow_factory) == {"quarantine": 3}


def test_undoing_a_posted_write_off_brings_the_unit_back_and_tells_the_erp(
        uow_factory, policies, units):
    graded = grade_unit(uow_factory, policies, unit_id=units[0], grade="D", actor="user:ana",
                        is_admin=True)
    assert _on_hand(uow_factory) == {"quarantine": 2}
    undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    assert _on_hand(uow_factory) == {"quarantine": 3}
    with uow_factory() as uow:
        reversed_ = [e.payload for e in uow.events.after(0, limit=100,
                                                         event_type="stock.write_off_reversed")]
    assert [r["write_off_id"] for r in reversed_] == [graded.write_off_id]
    assert verify_ledger(uow_factory) == []


def test_the_result_page_offers_undo_and_the_button_undoes_once(client, uow_factory, units):
    log_in(client, uow_factory, "grader")
    page = client.get(f"/station/units/{units[0]}").get_data(as_text=True)
    graded = client.post(f"/station/units/{units[0]}/grade", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "grade": "A"})
    result = client.get(graded.headers["Location"]).get_data(as_text=True)
    assert "Undo this grade" in result
    form = {"csrf_token": hidden(result, "csrf_token"),
            "submission": hidden(result, "submission")}
    undone = client.post(f"/station/units/{units[0]}/undo", data=form)
    assert undone.status_code == 303
    assert "Grade A of unit" in client.get(undone.headers["Location"]).get_data(as_text=True)
    again = client.post(f"/station/units/{units[0]}/undo", data=form)  # a double click
    assert "already been sent" in client.get(again.headers["Location"]).get_data(as_text=True)
    fresh = client.post(f"/station/units/{units[0]}/undo",
                        data={**form, "submission": "another-form"})
    assert fresh.status_code == 409 and "already undone" in fresh.get_data(as_text=True)
    assert _on_hand(uow_factory) == {"quarantine": 3}


def test_undo_withdraws_what_the_grade_decided_the_customer_gets(uow_factory, policies, units):
    grade_unit(uow_factory, policies, unit_id=units[0], grade="B", actor="user:ana")
    with uow_factory() as uow:
        unit_id = uow.units.unit(units[0]).id
        assert len(uow.refunds.outcomes_in_force(unit_id=unit_id)) == 1
    undo_last_grade(uow_factory, policies, unit_id=units[0], actor="user:ana")
    with uow_factory() as uow:
        assert uow.refunds.outcomes_in_force(unit_id=unit_id) == []  # judged by nobody now
    grade_unit(uow_factory, policies, unit_id=units[0], grade="A", actor="user:ana")
    with uow_factory() as uow:
        [again] = uow.refunds.outcomes_in_force(unit_id=unit_id)
    assert again["kind"] == "inspection"


def test_a_grade_that_settled_the_refund_cannot_be_undone(uow_factory, policies, units):
    for unit_id in units:  # the last unit of the line settles its refund
        grade_unit(uow_factory, policies, unit_id=unit_id, grade="A", actor="user:ana")
    settle_all(uow_factory, policies)
    with pytest.raises(Conflict, match="already decided what the customer gets"):
        undo_last_grade(uow_factory, policies, unit_id=units[-1], actor="user:ana")
    assert _on_hand(uow_factory) == {"sellable": 3}


def test_the_last_grade_undone_before_settlement_is_never_refunded(uow_factory, policies, units):
    for unit_id in units:
        grade_unit(uow_factory, policies, unit_id=unit_id, grade="A", actor="user:ana")
    # Undone before the settlement step's pass: the line has a unit waiting again.
    undo_last_grade(uow_factory, policies, unit_id=units[-1], actor="user:ana")
    settle_all(uow_factory, policies)
    with uow_factory() as uow:
        assert [e.payload for e in uow.events.after(0, 100, "refund.due")] == []
    grade_unit(uow_factory, policies, unit_id=units[-1], grade="A", actor="user:ana")
    settle_all(uow_factory, policies)
    with uow_factory() as uow:
        [due] = [e.payload for e in uow.events.after(0, 100, "refund.due")]
    assert due["units"] == 3
