"""Planners' decisions meet the nightly run: re-runs keep edits, racing planners get a 409."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import numpy as np
import pytest
from sqlalchemy import func, select

from returns_inventory.domain.errors import Conflict
from returns_inventory.persistence.planning_tables import (
    replenishment_suggestions,
    suggestion_decisions,
)
from returns_inventory.persistence.repositories.planning import PlanningRepository
from returns_inventory.persistence.repositories.suggestions import SuggestionRepository
from returns_inventory.persistence.tables import outbox_events, sales_lines
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from returns_inventory.services.order_export import export_approved_orders
from returns_inventory.services.suggestion_decisions import decide_suggestion
from returns_inventory.services.suggestions import list_suggestions
from returns_inventory.services.tokens import create_token
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, app_on
from tests.integration.suggestion_data import build_board

AS_OF = date(2026, 11, 23)


@pytest.fixture
def history(uow_factory):
    """Three sizes with 60 weeks of steady demand and no stock, packed in sixes."""
    add_history(uow_factory)


def add_history(uow_factory):
    location_id = add_location(uow_factory, "WH1")
    rng = np.random.default_rng(11)
    rows = []
    for size, mean in (("S", 3), ("M", 8), ("L", 5)):
        item_id = add_item(uow_factory, "TEE-BLK", size, case_pack=6, min_order_qty=0,
                           lead_time_days=14)
        rows += [dict(order_ref=f"{size}-{week}", line_ref="1", item_id=item_id,
                      location_id=location_id, quantity=int(rng.poisson(mean)) or 1,
                      unit_price=Decimal("20"), channel="online",
                      sold_on=AS_OF - timedelta(weeks=60 - week)) for week in range(60)]
    with uow_factory() as uow:
        uow.connection.execute(sales_lines.insert(), rows)
        uow.commit()


def test_a_rerun_of_the_same_day_keeps_a_planners_edit_and_still_lists_it(
        uow_factory, history):
    settings = Settings.load(env={})
    first = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    board = list_suggestions(uow_factory, {"sort": "size"}, offset=0, limit=10)
    assert board["run"]["id"] == first["id"] and len(board["data"]) == 3
    medium = next(r for r in board["data"] if r["size"] == "M")
    edited = decide_suggestion(uow_factory, medium["id"], action="edit", quantity=5,
                               actor="ana")
    assert edited["suggestion"]["approved_qty"] == 6

    second = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    board = list_suggestions(uow_factory, {"sort": "size"}, offset=0, limit=10)
    assert board["run"]["id"] == second["id"]
    by_size = {r["size"]: r for r in board["data"]}
    assert len(board["data"]) == 3
    kept = by_size["M"]
    assert (kept["id"], kept["status"], kept["approved_qty"], kept["run_id"]) == (
        medium["id"], "edited", 6, first["id"])
    assert {by_size[s]["run_id"] for s in ("S", "L")} == {second["id"]}
    superseded = list_suggestions(uow_factory, {"run": first["id"], "status": ["superseded"]},
                                  offset=0, limit=10)
    assert superseded["page"]["total"] == 2

    decide_suggestion(uow_factory, medium["id"], action="approve", actor="ben",
                      expected_version=kept["version"])
    export = export_approved_orders(uow_factory)
    assert export["run_id"] == second["id"]
    [order] = export["orders"]
    assert [(line["size"], line["quantity"]) for line in order["lines"]] == [("M", 6)]


def test_two_planners_approving_at_once_make_one_decision(backend, committing_db):
    if backend != "postgresql":
        pytest.skip("row locks and concurrent writers are PostgreSQL's")
    uow_factory = partial(UnitOfWork, committing_db)
    board = build_board(uow_factory)
    target = board.ids["TEE-BLK/M"]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def planner(name: str, quantity: int):
        start.wait()
        try:
            decide_suggestion(uow_factory, target, action="approve", quantity=quantity,
                              actor=name)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=planner, args=(n, q)) for n, q in (("ana", 30),
                                                                          ("ben", 60))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["approved", "conflict"]
    with uow_factory() as uow:
        audits = uow.connection.scalar(select(func.count()).select_from(suggestion_decisions))
        events = uow.connection.scalar(select(func.count()).select_from(outbox_events).where(
            outbox_events.c.event_type == "replenishment.approved"))
        row = uow.suggestions.one(target)
    assert (audits, events, row["version"]) == (1, 1, 2)


def _approvals_announced(uow) -> int:
    return uow.connection.scalar(select(func.count()).select_from(outbox_events).where(
        outbox_events.c.event_type == "replenishment.approved"))


def test_a_decision_on_the_version_read_before_a_run_superseded_it_changes_nothing(
        uow_factory):
    board = build_board(uow_factory)
    medium = board.ids["TEE-BLK/M"]
    with uow_factory() as uow:
        seen = uow.suggestions.one(medium)["version"]
    with uow_factory() as uow:  # the next night's run steps the undecided suggestions aside
        newer = uow.planning.start_run(as_of=AS_OF + timedelta(days=7), executor="local",
                                       workers=1, trigger="schedule", actor="job")
        uow.planning.supersede_undecided(AS_OF + timedelta(days=7), newer)
        uow.commit()
    with uow_factory() as uow:
        applied = uow.suggestions.decide(medium, seen_version=seen, status="approved",
                                         approved_qty=30, actor="ana", comment=None)
        row = uow.suggestions.one(medium)
    assert applied is False
    assert (row["status"], row["version"], row["approved_qty"]) == ("superseded", seen + 1, None)


def test_an_approval_racing_the_run_that_supersedes_it_answers_409(
        backend, committing_db, settings, monkeypatch):
    if backend != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE lets no run commit inside the decision")
    uow_factory = partial(UnitOfWork, committing_db)
    board = build_board(uow_factory)
    medium = board.ids["TEE-BLK/M"]
    token = create_token(uow_factory, name="ana", role="planner").secret
    read = SuggestionRepository.one
    raced = []

    def read_then_supersede(self, suggestion_id, **kwargs):
        # The planner's request has read version 1; the nightly run commits before it writes.
        row = read(self, suggestion_id, **kwargs)
        if not raced:
            raced.append(True)
            with uow_factory() as run:
                newer = run.planning.start_run(as_of=AS_OF + timedelta(days=7),
                                               executor="local", workers=1,
                                               trigger="schedule", actor="job")
                run.planning.supersede_undecided(AS_OF + timedelta(days=7), newer)
                run.commit()
        return row

    monkeypatch.setattr(SuggestionRepository, "one", read_then_supersede)
    answer = app_on(settings, committing_db).test_client().post(
        f"/api/v1/replenishment/suggestions/{medium}/decision",
        headers={"Authorization": f"Bearer {token}"}, json={"action": "approve", "version": 1})
    monkeypatch.undo()
    assert answer.status_code == 409, answer.json
    assert "replaced by a newer forecast run" in answer.json["detail"]
    with uow_factory() as uow:
        row = uow.suggestions.one(medium)
        assert (row["status"], _approvals_announced(uow)) == ("superseded", 0)


def test_an_approval_committed_while_the_run_writes_keeps_one_live_suggestion_per_item(
        backend, committing_db, monkeypatch):
    if backend != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE lets no approval commit inside the run")
    uow_factory = partial(UnitOfWork, committing_db)
    add_history(uow_factory)
    settings = Settings.load(env={})
    run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    medium = next(r for r in list_suggestions(uow_factory, {}, offset=0, limit=10)["data"]
                  if r["size"] == "M")
    supersede = PlanningRepository.supersede_undecided

    def approve_then_supersede(self, as_of, keep_run):
        # A planner's approval commits while the re-run is in its write transaction.
        decide_suggestion(uow_factory, medium["id"], action="approve", actor="ana",
                          expected_version=medium["version"])
        return supersede(self, as_of, keep_run)

    monkeypatch.setattr(PlanningRepository, "supersede_undecided", approve_then_supersede)
    second = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    monkeypatch.undo()
    s = replenishment_suggestions.c
    with uow_factory() as uow:
        live = uow.connection.execute(
            select(s.item_id, s.status, s.run_id).where(s.status != "superseded")).all()
    statuses = {}
    for row in live:
        statuses.setdefault(row.item_id, []).append(row.status)
    assert sorted(map(len, statuses.values())) == [1, 1, 1], live
    assert statuses[next(r.item_id for r in live if r.status == "approved")] == ["approved"]
    assert {r.run_id for r in live if r.status == "proposed"} == {second["id"]}
