"""The nightly run reads the database, forecasts and writes suggestions in one go."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from returns_inventory.persistence.planning_tables import replenishment_suggestions
from returns_inventory.persistence.tables import sales_lines
from returns_inventory.services import forecast_runs
from returns_inventory.services.forecast_runs import RunRequest, planners_today, run_forecast
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location
from tests.integration.web_support import log_in

AS_OF = date(2026, 11, 23)  # a Monday


@pytest.fixture
def history(uow_factory):
    """Two SKUs in three sizes with 60 weeks of steady demand; no stock at all."""
    add_history(uow_factory)


def add_history(uow_factory):
    location_id = add_location(uow_factory, "WH1")
    rng = np.random.default_rng(7)
    rows = []
    for sku in ("TEE-BLK", "TEE-WHT"):
        for size, mean in (("S", 3), ("M", 8), ("L", 5)):
            item_id = add_item(uow_factory, sku, size, case_pack=1, min_order_qty=0,
                               lead_time_days=14)
            for week in range(60):
                day = AS_OF - timedelta(weeks=60 - week)
                rows.append(dict(order_ref=f"{sku}-{size}-{week}", line_ref="1", item_id=item_id,
                                 location_id=location_id, quantity=int(rng.poisson(mean)) or 1,
                                 unit_price=Decimal("20"), channel="online", sold_on=day))
    with uow_factory() as uow:
        uow.connection.execute(sales_lines.insert(), rows)
        uow.commit()


@pytest.fixture
def app_settings():
    return Settings.load(env={})


def _suggestions(db, status=None):
    query = select(replenishment_suggestions)
    if status:
        query = query.where(replenishment_suggestions.c.status == status)
    return db.connection.execute(query).all()


def test_a_run_suggests_orders_for_every_size_that_sells_with_no_stock(
        uow_factory, db, history, app_settings):
    run = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    assert run["status"] == "succeeded" and run["series_count"] == 6
    proposed = _suggestions(db, "proposed")
    assert len(proposed) == 6
    by_qty = sorted(s.suggested_qty for s in proposed)
    assert by_qty[0] > 0
    medium = [s for s in proposed if s.terms["gross_demand"] > 20]
    assert medium and all(s.suggested_qty >= s.terms["gross_demand"] * 0.8 for s in medium)
    assert all("order-up-to" in s.explanation for s in proposed)


def test_rerunning_the_same_day_replaces_undecided_suggestions_but_keeps_decisions(
        uow_factory, db, history, app_settings):
    first = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    one = _suggestions(db, "proposed")[0]
    db.connection.execute(
        replenishment_suggestions.update().where(replenishment_suggestions.c.id == one.id)
        .values(status="approved", approved_qty=one.suggested_qty))
    second = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    assert second["id"] != first["id"]
    assert len(_suggestions(db, "approved")) == 1
    assert len(_suggestions(db, "superseded")) == 5
    current = _suggestions(db, "proposed")
    assert {s.run_id for s in current} == {second["id"]}
    assert one.item_id not in {s.item_id for s in current}
    assert all(s.previous_qty is not None for s in current)
    count = db.connection.scalar(select(func.count()).select_from(replenishment_suggestions))
    assert count == 12 - 1


def test_a_second_run_is_refused_while_one_is_running_and_allowed_after_it(
        history, uow_factory, app_settings):
    from returns_inventory.domain.errors import Conflict
    from returns_inventory.services.forecast_runs import execute_run, start_run

    request = RunRequest(as_of=AS_OF, actor="planner")
    first = start_run(uow_factory, app_settings, request)
    with pytest.raises(Conflict) as refused:
        run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="job:nightly"))
    assert f"forecast run {first}" in refused.value.detail
    assert execute_run(uow_factory, app_settings, first, request)["status"] == "succeeded"
    again = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="job:nightly"))
    assert again["status"] == "succeeded" and again["id"] != first


def test_a_run_that_fails_lets_the_next_one_start(uow_factory, app_settings):
    from returns_inventory.domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed):  # nothing imported: no warehouse to replenish
        run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="planner"))
    [failed] = forecast_runs.list_runs(uow_factory, offset=0, limit=1)[0]
    assert failed["error"] == "no warehouse to replenish: import locations first"
    add_history(uow_factory)
    assert run_forecast(uow_factory, app_settings,
                        RunRequest(as_of=AS_OF, actor="planner"))["status"] == "succeeded"


def test_a_warehouse_without_items_is_a_clear_refusal_not_an_internal_error(
        uow_factory, app_settings):
    from returns_inventory.domain.errors import ValidationFailed

    add_location(uow_factory, "WH1")  # a fresh install: locations in, items not yet
    with pytest.raises(ValidationFailed) as refused:
        run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="planner"))
    assert refused.value.errors[0].field == "items"
    [failed] = forecast_runs.list_runs(uow_factory, offset=0, limit=1)[0]
    assert failed["error"] == "no items to forecast: import items first"


def test_an_unexpected_failure_is_logged_in_full_but_recorded_without_its_sql(
        uow_factory, history, app_settings, monkeypatch, caplog, client, auth):
    def database_trouble(*_args):
        raise OperationalError("SELECT unit_cost FROM items WHERE sku = %(sku)s",
                               {"sku": "SECRET-SKU"}, Exception("connection reset"))

    monkeypatch.setattr(forecast_runs, "_plan", database_trouble)
    with caplog.at_level(logging.ERROR), pytest.raises(OperationalError):
        run_forecast(uow_factory, app_settings,
                     RunRequest(as_of=AS_OF, actor="job:nightly", trigger="schedule"))
    [run] = client.get("/api/v1/forecast-runs", headers=auth("grader")).json["data"]
    assert run["status"] == "failed"
    assert run["error"] == f"internal error; see the scheduler log for forecast run {run['id']}"
    assert "Traceback" in caplog.text and "SECRET-SKU" in caplog.text
    log_in(client, uow_factory, "planner")
    for path in (f"/planner/runs/{run['id']}", "/planner/runs"):  # the list says why too
        page = client.get(path).get_data(as_text=True)
        assert f"see the scheduler log for forecast run {run['id']}" in page
        assert "SECRET-SKU" not in page and "SELECT" not in page


@pytest.mark.parametrize(("zone", "expected"), [
    ("Europe/London", date(2026, 11, 23)), ("America/Los_Angeles", date(2026, 11, 22)),
    ("Pacific/Auckland", date(2026, 11, 23))])
def test_today_for_a_run_is_the_planners_date_not_the_hosts(zone, expected):
    loaded = Settings.load(env={})
    settings = replace(loaded, policies={**loaded.policies, "forecasting": {
        **loaded.policies["forecasting"], "schedule": {"timezone": zone}}})
    # 01:30 UTC on Monday 23 November: still Sunday in California.
    assert planners_today(settings, datetime(2026, 11, 23, 1, 30, tzinfo=UTC)) == expected


def _previous_by_item(db, run_id):
    rows = db.connection.execute(
        select(replenishment_suggestions.c.item_id, replenishment_suggestions.c.previous_qty)
        .where(replenishment_suggestions.c.run_id == run_id))
    return dict(rows.all())


def _mark_quantities(db, run_id):
    """Give a run's suggestions quantities no run would compute, to tell runs apart."""
    s = replenishment_suggestions.c
    db.connection.execute(replenishment_suggestions.update().where(s.run_id == run_id)
                          .values(suggested_qty=1000 + s.item_id))


def test_change_since_the_last_run_follows_as_of_dates_not_the_order_runs_were_made(
        uow_factory, db, history, app_settings):
    tonight = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    _mark_quantities(db, tonight["id"])
    backfill = run_forecast(uow_factory, app_settings,
                            RunRequest(as_of=AS_OF - timedelta(weeks=1), actor="test"))
    # Nothing ran before the backfilled date: nothing to compare with.
    assert set(_previous_by_item(db, backfill["id"]).values()) == {None}
    _mark_quantities(db, backfill["id"])
    next_night = run_forecast(uow_factory, app_settings,
                              RunRequest(as_of=AS_OF + timedelta(days=1), actor="test"))
    previous = _previous_by_item(db, next_night["id"])
    assert previous and all(qty == 1000 + item for item, qty in previous.items())


def test_change_since_the_last_run_counts_decisions_a_rerun_carried_forward(
        uow_factory, db, history, app_settings):
    first = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    _mark_quantities(db, first["id"])
    one = _suggestions(db, "proposed")[0]
    db.connection.execute(
        replenishment_suggestions.update().where(replenishment_suggestions.c.id == one.id)
        .values(status="approved", approved_qty=one.suggested_qty))
    rerun = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    # A re-run of the same day compares with the run it replaces.
    assert all(qty == 1000 + item for item, qty in _previous_by_item(db, rerun["id"]).items())
    next_night = run_forecast(uow_factory, app_settings,
                              RunRequest(as_of=AS_OF + timedelta(days=1), actor="test"))
    previous = _previous_by_item(db, next_night["id"])
    assert previous[one.item_id] == one.suggested_qty
    assert len(previous) == 6
