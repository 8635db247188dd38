"""The life of a forecast run: requested, claimed, beating, lost, cleared, discarded."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select

from ...domain.replenishment import (
    DISCARDED,
    EDITED,
    PROPOSED,
    SUGGESTIONS,
    SUPERSEDED,
)
from ...domain.replenishment import (
    OPEN_RUNS as OPEN,
)
from ..planning_tables import forecast_runs, replenishment_suggestions
from ..tables import sales_lines
from .base import Repository

r, s = forecast_runs.c, replenishment_suggestions.c


class RunRepository(Repository):
    def request(self, *, now: datetime, **values: Any) -> int:
        """Record a run for the scheduler to pick up; `started_at` says when it was asked
        for until the scheduler starts it."""
        return self.connection.execute(
            forecast_runs.insert()
            .values(status="requested", started_at=now, figures={}, failures=[], **values)
            .returning(r.id)
        ).scalar_one()

    def open_runs(self) -> list[dict]:
        rows = self.connection.execute(
            select(forecast_runs).where(r.status.in_(OPEN), r.discarded_at.is_(None))
            .order_by(r.id))
        return [dict(row._mapping) for row in rows]

    def next_requested(self) -> dict | None:
        row = self.connection.execute(
            select(forecast_runs).where(r.status == "requested", r.discarded_at.is_(None))
            .order_by(r.id).limit(1)).first()
        return dict(row._mapping) if row else None

    def claim(self, run_id: int, runner: str, *, now: datetime) -> bool:
        """Start a requested run in this process, unless someone else did or it was
        discarded meanwhile."""
        return self.connection.execute(
            forecast_runs.update()
            .where(r.id == run_id, r.status == "requested", r.discarded_at.is_(None))
            .values(status="running", started_at=now, heartbeat_at=now, runner=runner)
        ).rowcount == 1

    def beat(self, run_id: int, *, now: datetime) -> bool:
        """The running process is alive; False once the run is no longer running."""
        return self.connection.execute(
            forecast_runs.update().where(r.id == run_id, r.status == "running")
            .values(heartbeat_at=now)
        ).rowcount == 1

    def reap(self, *, silent_since: datetime, now: datetime) -> list[dict]:
        """Running runs whose process stopped beating before `silent_since` fail as lost;
        returns them (id, runner), to free what they held. Runs recorded before heartbeats
        existed are judged by their start."""
        last_sign = func.coalesce(r.heartbeat_at, r.started_at)
        rows = self.connection.execute(
            forecast_runs.update()
            .where(r.status == "running", last_sign < silent_since)
            .values(status="failed", finished_at=now,
                    error=case((r.heartbeat_at.is_(None), "lost: the run stopped"),
                               else_="lost: the process running it stopped beating"))
            .returning(r.id, r.runner, r.heartbeat_at, r.trigger, r.as_of, r.executor,
                       r.workers, r.actor)
        )
        return [dict(row._mapping) for row in rows]

    def fail(self, run_id: int, error: str, *, now: datetime) -> bool:
        """End an open run as failed; False when it is no longer open."""
        return self.connection.execute(
            forecast_runs.update().where(r.id == run_id, r.status.in_(OPEN))
            .values(status="failed", finished_at=now, error=error)
        ).rowcount == 1

    def finish(self, run_id: int, *, now: datetime, **values: Any) -> bool:
        """Record a running run's outcome; False when it was reaped or cleared meanwhile."""
        return self.connection.execute(
            forecast_runs.update().where(r.id == run_id, r.status == "running")
            .values(finished_at=now, **values)
        ).rowcount == 1

    def discard(self, run_id: int, actor: str, *, now: datetime) -> bool:
        return self.connection.execute(
            forecast_runs.update()
            .where(r.id == run_id, r.status != "running", r.discarded_at.is_(None))
            .values(discarded_at=now, discarded_by=actor)
        ).rowcount == 1

    def withdraw_undecided(self, run_id: int) -> int:
        """A discarded run's suggestions nobody decided on leave every list and export; a
        new version makes a decision in flight on them miss."""
        return self.connection.execute(
            replenishment_suggestions.update()
            .where(s.run_id == run_id, s.status.in_(SUGGESTIONS.before(DISCARDED)))
            .values(status=DISCARDED, version=s.version + 1)
        ).rowcount

    def restore_superseded(self, run_id: int, as_of: date) -> int:
        """Give the run now in force back the suggestions that discarded runs superseded.

        Only a discarded run can have superseded them: a kept run that did would itself be
        the run in force. Rows of earlier runs of the date that were superseded undecided
        were replaced by this run's own, and stay superseded.
        """
        return self.connection.execute(
            replenishment_suggestions.update()
            .where(s.as_of == as_of, s.status == SUPERSEDED,
                   (s.run_id == run_id) | ((s.run_id < run_id) & s.decided_by.is_not(None)))
            .values(status=case((s.decided_by.is_(None), PROPOSED), else_=EDITED),
                    version=s.version + 1)
        ).rowcount

    def first_sale(self) -> date | None:
        return self.connection.scalar(select(func.min(sales_lines.c.sold_on)))
