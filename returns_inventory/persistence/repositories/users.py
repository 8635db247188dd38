"""People who log in to the web pages (the API's clients use tokens instead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from ...domain.access import Role
from ..people_tables import users, web_sessions
from .base import Repository, utcnow


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def actor(self) -> str:
        # The same shape as token actors ("token:<name>"), so the ledger says who did it.
        return f"user:{self.username}"

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _person(row) -> Person:
    return Person(
        row.id, row.username, row.display_name, Role(row.role), row.password_hash,
        row.created_at, row.disabled_at,
    )


# Every page request checks its session: build the lookup once. A disabled person's sessions
# are deleted, but the join on disabled_at keeps even a stray row from letting them in.
_PERSON_BY_SESSION = (
    select(users)
    .join(web_sessions, web_sessions.c.user_id == users.c.id)
    .where(
        web_sessions.c.id == bindparam("session_id"),
        web_sessions.c.expires_at > bindparam("now"),
        users.c.disabled_at.is_(None),
    )
)


class UserRepository(Repository):
    def add(self, *, username: str, display_name: str, password_hash: str, role: Role) -> int:
        return self.connection.execute(
            users.insert()
            .values(
                username=username, display_name=display_name, password_hash=password_hash,
                role=role.value, created_at=utcnow(),
            )
            .returning(users.c.id)
        ).scalar_one()

    def by_username(self, username: str) -> Person | None:
        row = self.connection.execute(select(users).where(users.c.username == username)).first()
        return _person(row) if row else None

    def list(self) -> list[Person]:
        return [_person(r) for r in self.connection.execute(select(users).order_by(users.c.id))]

    def disable(self, username: str) -> int:
        return self.connection.execute(
            users.update()
            .where(users.c.username == username, users.c.disabled_at.is_(None))
            .values(disabled_at=utcnow())
        ).rowcount

    def open_session(self, user_id: int, session_id: str, *, now: datetime,
                     expires_at: datetime) -> None:
        self.connection.execute(web_sessions.insert().values(
            id=session_id, user_id=user_id, created_at=now, expires_at=expires_at))

    def by_session(self, session_id: str, *, now: datetime) -> Person | None:
        row = self.connection.execute(
            _PERSON_BY_SESSION, {"session_id": session_id, "now": now}).first()
        return _person(row) if row else None

    def end_session(self, session_id: str) -> int:
        return self.connection.execute(
            web_sessions.delete().where(web_sessions.c.id == session_id)).rowcount

    def end_sessions_of(self, username: str) -> int:
        person = select(users.c.id).where(users.c.username == username).scalar_subquery()
        return self.connection.execute(
            web_sessions.delete().where(web_sessions.c.user_id == person)).rowcount

    def purge_sessions_expired_by(self, now: datetime) -> int:
        return self.connection.execute(
            web_sessions.delete().where(web_sessions.c.expires_at <= now)).rowcount
