"""Job leases: the row that lets one scheduler process, on any host, run a job at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..people_tables import job_leases
from .base import Repository, upsert


class LeaseRepository(Repository):
    def acquire(
        self, job_id: str, holder: str, *, now: datetime, expires_at: datetime,
        not_before: datetime,
    ) -> bool:
        """Take the lease in one atomic statement: insert it, or take it over when it has
        expired (or was released) and was last taken before `not_before`.

        The second condition is what keeps a job to one run per tick: a released lease still
        remembers when its run started, so a second scheduler firing the same tick a moment
        later finds it taken "too recently" and skips, instead of running the job again.
        """
        stmt = upsert(self.connection, job_leases).values(
            job_id=job_id, holder=holder, acquired_at=now, expires_at=expires_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["job_id"],
            set_={
                "holder": stmt.excluded.holder,
                "acquired_at": stmt.excluded.acquired_at,
                "expires_at": stmt.excluded.expires_at,
            },
            where=(job_leases.c.expires_at <= now) & (job_leases.c.acquired_at < not_before),
        ).returning(job_leases.c.job_id)
        return self.connection.execute(stmt).first() is not None

    def release(self, job_id: str, holder: str, *, now: datetime) -> bool:
        """End our lease now; the row stays, so the tick it ran for stays taken."""
        return bool(
            self.connection.execute(
                job_leases.update()
                .where(
                    job_leases.c.job_id == job_id,
                    job_leases.c.holder == holder,
                    job_leases.c.expires_at > now,
                )
                .values(expires_at=now)
            ).rowcount
        )

    def free_held_by(self, holder: str, *, now: datetime) -> list[str]:
        """End every lease `holder` still holds (it died); returns their job ids. Their rows
        keep when they were taken, so the next tick, not the one that died, runs."""
        rows = self.connection.execute(
            job_leases.update()
            .where(job_leases.c.holder == holder, job_leases.c.expires_at > now)
            .values(expires_at=now)
            .returning(job_leases.c.job_id)
        )
        return [row.job_id for row in rows]

    def get(self, job_id: str) -> dict | None:
        row = self.connection.execute(
            select(job_leases).where(job_leases.c.job_id == job_id)
        ).first()
        if row is None:
            return None
        return dict(row._mapping)

    def last_taken(self, *, besides: tuple[str, ...] = ()) -> datetime | None:
        """When any job's lease was last taken: a scheduler's heartbeat, since its jobs tick
        every few seconds. `besides` leaves out leases taken outside the scheduler."""
        return self.connection.scalar(
            select(func.max(job_leases.c.acquired_at)).where(job_leases.c.job_id.not_in(besides))
        )
