"""The grading queue: what waits oldest first, by location and reason; reviews; repairs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from returns_inventory.persistence.returns_tables import return_units
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_blind, receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def work(uow_factory, policies):
    """At WH1 a 'too small' unit received 3 hours ago and a 'quality defect' one now; at WH2 one
    'too small' unit; a blind receipt; and a unit graded C (in repair)."""
    item = add_item(uow_factory, "TEE-BLK", "M")
    codes = {}
    for wh, order, reason, n in [("WH1", "SO-1", "too_small", 2),
                                 ("WH1", "SO-2", "quality_defect", 1),
                                 ("WH2", "SO-3", "too_small", 1)]:
        wh_id = add_location(uow_factory, wh)
        add_sale(uow_factory, item, wh_id, order_ref=order, line_ref="1", quantity=n)
        rma = authorize_return(uow_factory, policies, order_ref=order, actor="erp", lines=[
            ReturnLineRequest(line_ref="1", quantity=n, reason=reason)]).rma
        codes[order] = [u.unit_id for u in receive_units(
            uow_factory, rma=rma, location=wh, lines=[{"line_no": 1, "quantity": n}],
            actor="dock")]
    with uow_factory() as uow:
        uow.connection.execute(update(return_units).where(
            return_units.c.unit_code == codes["SO-1"][0]).values(
            received_at=datetime.now(UTC) - timedelta(hours=3)))
        uow.commit()
    blind = receive_blind(uow_factory, sku="TEE-BLK", size="M", location="WH1", quantity=1,
                          actor="dock", note="no slip")[0].unit_id
    grade_unit(uow_factory, policies, unit_id=codes["SO-1"][1], grade="C", actor="someone")
    return {"old": codes["SO-1"][0], "repair": codes["SO-1"][1], "damaged": codes["SO-2"][0],
            "wh2": codes["SO-3"][0], "blind": blind}


def _section(page, section_id):
    found = re.search(rf'id="{section_id}">(.*?)</(ol|table)>', page, re.S)
    return found.group(1) if found else ""


def test_the_queue_lists_the_oldest_first_with_age_reviews_and_repairs(client, uow_factory,
                                                                         work):
    log_in(client, uow_factory, "grader")
    page = client.get("/station/queue").get_data(as_text=True)
    waiting = _section(page, "waiting")
    assert re.findall(r"<strong>(U\w+)</strong>", waiting)[0] == work["old"]
    assert "waiting 3 h 00 min" in waiting
    assert {work["damaged"], work["wh2"]} <= set(re.findall(r"<strong>(U\w+)</strong>", waiting))
    assert work["blind"] in _section(page, "review") and work["blind"] not in waiting
    assert work["repair"] in _section(page, "repair")
    assert f'href="/station/units/{work["old"]}"' in waiting  # opens its grading page


def test_the_queue_filters_by_location_and_reason(client, uow_factory, work):
    log_in(client, uow_factory, "grader")
    page = client.get("/station/queue?location=WH1&reason=too_small").get_data(as_text=True)
    assert re.findall(r"<strong>(U\w+)</strong>", _section(page, "waiting")) == [work["old"]]


def test_the_station_home_counts_units_in_each_state(client, uow_factory, work):
    log_in(client, uow_factory, "grader")
    page = client.get("/station").get_data(as_text=True)
    counts = dict((label, int(n)) for n, label in re.findall(
        r"<strong>(\d+)</strong> ([a-z -]+)<", page))
    assert counts["waiting for grading"] == 4  # the blind receipt waits too
    assert counts["blind receipts to review"] == 1
    assert counts["in repair"] == 1


def test_a_repair_outcome_from_the_queue_restocks_the_unit(client, uow_factory, work):
    log_in(client, uow_factory, "grader")
    page = client.get("/station/queue").get_data(as_text=True)
    answer = client.post(f"/station/units/{work['repair']}/repair-outcome", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": "r1", "outcome": "B"})
    assert answer.status_code == 303
    assert "Outlet bin" in client.get("/station/queue").get_data(as_text=True)
    with uow_factory() as uow:
        assert uow.units.unit(work["repair"]).status.value == "second_quality"


def test_a_long_repair_list_says_how_many_there_are_beyond_those_listed(
        client, uow_factory, work, policies, monkeypatch):
    from returns_inventory.services import queue

    grade_unit(uow_factory, policies, unit_id=work["damaged"], grade="C", actor="someone")
    monkeypatch.setattr(queue, "SHOWN", 1)
    log_in(client, uow_factory, "grader")
    page = client.get("/station/queue").get_data(as_text=True)
    assert "In repair (2)" in page
    assert len(re.findall(r"<strong>(U\w+)</strong>", _section(page, "repair"))) == 1
    assert "The 1 received first are listed" in page
