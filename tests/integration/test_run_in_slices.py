"""A run reads its history in blocks and writes its results in slices (memory stays bounded
at a million series) and gives exactly the run it gives in one piece."""

from __future__ import annotations

from returns_inventory.persistence import bulk
from returns_inventory.services import forecast_runs
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from tests.integration.test_forecast_dask import _figures, add_graded_returns
from tests.integration.test_forecast_run import (  # noqa: F401
    AS_OF,
    app_settings,
    history,
)


def test_a_run_read_and_written_in_small_slices_writes_what_one_piece_writes(
        uow_factory, db, history, app_settings, monkeypatch):  # noqa: F811
    assert add_graded_returns(uow_factory) > 50
    whole = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    # Six items: results written four rows at a time; history read in blocks of two rows on
    # SQLite (PostgreSQL sends a block per item id modulo 1,024: one per item here).
    monkeypatch.setattr(forecast_runs, "WRITE_SLICE", 4)
    monkeypatch.setattr(bulk, "COPY_BLOCK", 2)
    sliced = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    assert sliced["status"] == "succeeded" and sliced["suggestion_count"] == 6
    forecasts, orders = _figures(db, sliced["id"])
    assert (forecasts, orders) == _figures(db, whole["id"])
    assert len(forecasts) == 6 and len(orders) == 6
