"""A person's remembered choices in the pages (e.g. the suggestions table's columns)."""

from __future__ import annotations

from sqlalchemy import select

from ..planning_tables import planner_preferences as prefs
from .base import Repository, upsert, utcnow


class PreferenceRepository(Repository):
    def get(self, actor: str, name: str):
        return self.connection.scalar(
            select(prefs.c.value).where(prefs.c.actor == actor, prefs.c.name == name))

    def put(self, actor: str, name: str, value) -> None:
        statement = upsert(self.connection, prefs).values(
            actor=actor, name=name, value=value, updated_at=utcnow())
        self.connection.execute(statement.on_conflict_do_update(
            index_elements=[prefs.c.actor, prefs.c.name],
            set_={"value": statement.excluded.value,
                  "updated_at": statement.excluded.updated_at}))
