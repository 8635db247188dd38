"""`--executor dask` gives the same run as the local executor, on a real LocalCluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import (
    replenishment_suggestions,
    series_forecasts,
)
from returns_inventory.persistence.returns_tables import return_lines, return_units, returns
from returns_inventory.persistence.tables import sales_lines
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from tests.integration.test_forecast_run import (  # noqa: F401
    AS_OF,
    add_history,
    app_settings,
    history,
)

pytestmark = pytest.mark.slow
REASONS = ("too_small", "too_large", "changed_mind", "not_in_the_library")


def _figures(db, run_id):
    forecasts = db.connection.execute(
        select(series_forecasts.c.item_id, series_forecasts.c.forecast, series_forecasts.c.method,
               series_forecasts.c.return_rate, series_forecasts.c.expected_returns,
               series_forecasts.c.explanation)
        .where(series_forecasts.c.run_id == run_id)).all()
    orders = db.connection.execute(
        select(replenishment_suggestions.c.item_id, replenishment_suggestions.c.suggested_qty,
               replenishment_suggestions.c.return_blind_qty, replenishment_suggestions.c.terms,
               replenishment_suggestions.c.explanation)
        .where(replenishment_suggestions.c.run_id == run_id)).all()
    return sorted(map(repr, forecasts)), sorted(map(repr, orders))


def add_graded_returns(uow_factory) -> int:
    """Return about a fifth of the sales lines, with mixed reasons, grades and lags."""
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    with uow_factory() as uow:
        lines = uow.connection.execute(
            select(sales_lines.c.id, sales_lines.c.item_id, sales_lines.c.sold_on,
                   sales_lines.c.order_ref, sales_lines.c.location_id)
            .order_by(sales_lines.c.id)).all()
        picked = [line for line in lines if rng.random() < 0.2]
        for k, line in enumerate(picked):
            received = datetime.combine(line.sold_on + timedelta(days=int(rng.integers(3, 40))),
                                        datetime.min.time(), UTC)
            return_id = uow.connection.execute(returns.insert().values(
                rma=f"RMA-{k}", order_ref=line.order_ref, sold_channel="online",
                status="received", shipping_paid_by="customer", requested_on=line.sold_on,
                actor="test", created_at=now, updated_at=now).returning(returns.c.id)).scalar_one()
            line_id = uow.connection.execute(return_lines.insert().values(
                return_id=return_id, line_no=1, sales_line_id=line.id, item_id=line.item_id,
                quantity=1, received_quantity=1, reason=REASONS[k % len(REASONS)],
                resolution="refund").returning(return_lines.c.id)).scalar_one()
            grade = ("A", "B", "C", "D", None)[k % 5]
            uow.connection.execute(return_units.insert().values(
                unit_code=f"U-{k}", return_id=return_id, return_line_id=line_id,
                item_id=line.item_id, location_id=line.location_id,
                status="restocked" if grade else "awaiting_grading", grade=grade, defects=[],
                received_at=received, received_by="test"))
        uow.commit()
    return len(picked)


def test_a_dask_run_writes_exactly_what_a_local_run_writes(
        uow_factory, db, history, app_settings):  # noqa: F811
    local = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    dask = run_forecast(uow_factory, app_settings,
                        RunRequest(as_of=AS_OF, actor="test", executor="dask", workers=2))
    assert dask["status"] == "succeeded" and dask["executor"] == "dask"
    assert _figures(db, dask["id"]) == _figures(db, local["id"])
    assert len(_figures(db, local["id"])[1]) == 6


def test_dask_partitions_read_in_one_snapshot_and_match_the_local_run(
        committing_db, backend, app_settings):  # noqa: F811
    uow_factory = partial(UnitOfWork, committing_db)
    add_history(uow_factory)
    assert add_graded_returns(uow_factory) > 50
    local = run_forecast(uow_factory, app_settings, RunRequest(as_of=AS_OF, actor="test"))
    dask = run_forecast(uow_factory, app_settings,
                        RunRequest(as_of=AS_OF, actor="test", executor="dask", workers=2))
    # On PostgreSQL the workers read (the partitions adopt the driver's
    # snapshot); SQLite has no snapshots to share, so there only the forecast is spread.
    assert dask["figures"]["partitioned_io"] is (backend == "postgresql")
    assert not local["figures"]["partitioned_io"]
    with UnitOfWork(committing_db) as uow:
        local_rows, dask_rows = _figures(uow, local["id"]), _figures(uow, dask["id"])
        rates = uow.connection.scalars(select(series_forecasts.c.return_rate).where(
            series_forecasts.c.run_id == dask["id"])).all()
    assert dask_rows == local_rows
    assert len(local_rows[0]) == 6 and len(local_rows[1]) == 6
    assert min(rates) > 0.01  # the returns were read (none would give 0), not lost
