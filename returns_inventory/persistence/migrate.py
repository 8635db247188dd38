"""Schema migrations, run from the installed package (no alembic.ini needed)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .engine import READ_ONLY

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Date-prefixed revision files keep `ls versions/` in the order they were written.
    config.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s"
    )
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _one_line(record: logging.LogRecord) -> bool:
    # Alembic logs "Running upgrade A -> B, <the revision's first paragraph>"; a paragraph
    # wrapped over lines printed its later lines bare, without the logger's prefix.
    message = record.getMessage()
    if "\n" in message:
        record.msg, record.args = " ".join(message.split()), None
    return True


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (head by default)."""
    config = alembic_config()
    steps = logging.getLogger("alembic.runtime.migration")
    steps.addFilter(_one_line)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        steps.removeFilter(_one_line)


@cache
def head_revision() -> str:
    # Reading the head means importing every revision file (~10 ms); the files a process was
    # started with do not change under it, and /readyz asks on every probe.
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return MigrationContext.configure(connection).get_current_revision()




def schema_status(engine: Engine) -> tuple[bool, str]:
    """Whether the database answers and sits at the head revision, and what it says."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        return False, f"database unreachable: {type(exc).__name__}"
    head = head_revision()
    if current != head:
        return False, f"schema at {current or 'nothing'}, code expects {head}"
    return True, current
