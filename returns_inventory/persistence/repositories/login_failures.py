"""Failed logins, counted in a sliding window per username and per client address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from ..people_tables import login_failures
from .base import Repository

# The failure that must leave the window before one more attempt is allowed: the `limit`-th
# most recent. Found on the (kind, subject, failed_at) index; a read that never locks.
_BLOCKING_FAILURE = (
    select(login_failures.c.failed_at)
    .where(
        login_failures.c.kind == bindparam("kind"),
        login_failures.c.subject == bindparam("subject"),
        login_failures.c.failed_at > bindparam("since"),
    )
    .order_by(login_failures.c.failed_at.desc())
    .limit(1)
    .offset(bindparam("skip"))
)


class LoginFailureRepository(Repository):
    def blocking_failure(
        self, kind: str, subject: str, *, since: datetime, limit: int
    ) -> datetime | None:
        """When the failure that keeps this subject at its limit happened, or None if under it."""
        return self.connection.execute(_BLOCKING_FAILURE, {
            "kind": kind, "subject": subject, "since": since, "skip": limit - 1,
        }).scalar()

    def add(self, rows: list[tuple[str, str]], *, at: datetime) -> None:
        self.connection.execute(login_failures.insert(), [
            {"kind": kind, "subject": subject, "failed_at": at} for kind, subject in rows
        ])

    def clear(self, kind: str, subject: str) -> int:
        return self.connection.execute(login_failures.delete().where(
            login_failures.c.kind == kind, login_failures.c.subject == subject)).rowcount

    def purge_before(self, cutoff: datetime) -> int:
        return self.connection.execute(
            login_failures.delete().where(login_failures.c.failed_at <= cutoff)).rowcount
