"""`--executor dask` gives the same run as the local executor, on a real LocalCluster."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import (
    replenishment_suggestions,
    series_forecasts,
)
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from tests.integration.test_forecast_run import AS_OF, app_settings, history  # noqa: F401

pytestmark = pytest.mark.slow


def _figures(db, run_id):
    forecasts = db.connection.execute(
        select(series_forecasts.c.item_id, series_forecasts.c.forecast, series_forecasts.c.method)
        .where(series_forecasts.c.run_id == run_id)).all()
    orders = db.connection.execute(
        select(replenishment_suggestions.c.item_id, replenishment_suggestions.c.suggested_qty,
               replenishment_suggestions.c.return_blind_qty)
        .where(replenishment_suggestions.c.run_id == run_id)).all()
    return sorted(map(tuple, forecasts)), sorted(map(tuple, orders))


def test_a_dask_run_writes_exactly_what_a_local_run_writes(
        uow_factory, db, history, app_settings):  # noqa: F811
    local = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    dask = run_forecast(uow_factory, app_settings,
                        RunRequest(as_of=AS_OF, actor="test", executor="dask", workers=2))
    assert dask["status"] == "succeeded" and dask["executor"] == "dask"
    assert _figures(db, dask["id"]) == _figures(db, local["id"])
    assert len(_figures(db, local["id"])[1]) == 6
