"""An admin discards a run: it is never the default again, its undecided suggestions leave
every list and export, the run before it is back in force, and decisions stay for the audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import replenishment_suggestions as rs
from returns_inventory.services.forecast_runs import RunRequest, start_run
from tests.integration.suggestion_data import AS_OF

SUGGESTIONS = "/api/v1/replenishment/suggestions"
FAR_FUTURE = date(2919, 11, 10)  # what an unbounded as_of once let in


@pytest.fixture
def far_run(uow_factory, board):
    """A run dated centuries ahead, as recorded before as_of was bounded: it superseded the
    board's undecided suggestions and proposed its own."""
    with uow_factory() as uow:
        run_id = uow.planning.start_run(as_of=FAR_FUTURE, executor="local", workers=1,
                                        trigger="api", actor="token:careless")
        uow.planning.supersede_undecided(FAR_FUTURE, run_id)
        rows = uow.connection.execute(
            select(rs.c.item_id, rs.c.location_id, rs.c.unit_cost)
            .where(rs.c.run_id == board.run_id)).all()
        uow.planning.add_suggestions([
            {"run_id": run_id, "as_of": FAR_FUTURE, "item_id": r.item_id,
             "location_id": r.location_id, "status": "proposed", "suggested_qty": 999,
             "return_blind_qty": 999, "previous_qty": None, "unit_cost": r.unit_cost,
             "value": r.unit_cost * 999, "terms": {}, "explanation": "far"} for r in rows])
        uow.planning.finish_run(run_id, status="succeeded")
        uow.commit()
    return run_id


def _listed(client, headers, **query):
    answer = client.get(SUGGESTIONS, headers=headers, query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_discarded_run_leaves_the_lists_and_exports_and_the_run_before_is_back(
        client, auth, board, far_run):
    planner, admin = auth("planner"), auth("admin")
    assert _listed(client, planner)["run"]["id"] == far_run  # the harm: it is the default
    far_rows = _listed(client, planner)["data"]
    [kept] = [s for s in far_rows if s["sku"] == "JEAN-IND"]
    withdrawn = next(s for s in far_rows if s["sku"] != "JEAN-IND")
    approved = client.post(f"{SUGGESTIONS}/{kept['id']}/decision", headers=planner,
                           json={"action": "approve"})
    assert approved.status_code == 200, approved.json

    refused = client.post(f"/api/v1/forecast-runs/{far_run}/discard", headers=planner)
    assert refused.status_code == 403
    answer = client.post(f"/api/v1/forecast-runs/{far_run}/discard", headers=admin)
    assert answer.status_code == 200, answer.json
    assert answer.json["discarded_at"] and answer.json["discarded_by"] == "token:test-admin"
    assert answer.json["status"] == "succeeded"  # what happened stays on record

    listed = _listed(client, planner)
    assert listed["run"]["id"] == board.run_id
    assert {s["status"] for s in listed["data"]} == {"proposed"}  # no longer superseded
    assert len(listed["data"]) == len(board.ids)
    assert _listed(client, planner, status="proposed,edited")["page"]["total"] == len(board.ids)
    export = client.get("/api/v1/replenishment/exports", headers=auth("integrator")).json
    assert export["run_id"] == board.run_id
    # Asked for by id, the discarded run shows only what a planner decided on it.
    audit = _listed(client, planner, run=far_run)
    assert [(s["id"], s["status"]) for s in audit["data"]] == [(kept["id"], "approved")]
    assert client.get(f"{SUGGESTIONS}/{kept['id']}", headers=planner).json["status"] == (
        "approved")
    # A decision in flight on a withdrawn suggestion misses.
    late = client.post(f"{SUGGESTIONS}/{withdrawn['id']}/decision", headers=planner,
                       json={"action": "approve"})
    assert late.status_code == 409, late.json


def test_discarding_is_for_admins_and_twice_changes_nothing(client, auth, board):
    admin = auth("admin")
    first = client.post(f"/api/v1/forecast-runs/{board.run_id}/discard", headers=admin).json
    again = client.post(f"/api/v1/forecast-runs/{board.run_id}/discard", headers=admin)
    assert again.status_code == 200 and again.json["discarded_at"] == first["discarded_at"]
    assert _listed(client, auth("planner"))["run"]["id"] == board.old_run_id
    assert client.post("/api/v1/forecast-runs/999/discard", headers=admin).status_code == 404


def test_a_running_run_cannot_be_discarded(client, auth, uow_factory, settings, board):
    running = start_run(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    answer = client.post(f"/api/v1/forecast-runs/{running}/discard", headers=auth("admin"))
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json"
