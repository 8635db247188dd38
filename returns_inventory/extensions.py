"""The service's shared resources, attached to the app with init_app."""

from __future__ import annotations

import logging
import secrets
from functools import partial

from flask import Flask, current_app

from . import path_ids
from .persistence.engine import make_engine
from .persistence.uow import Database, UnitOfWork
from .settings import Settings

log = logging.getLogger(__name__)


def ephemeral_secret(app: Flask) -> str:
    log.warning("RI_SECRET_KEY is not set: web sessions will not survive a restart")
    return secrets.token_hex(32)


def init_app(app: Flask, settings: Settings, database: Database | None = None) -> None:
    logging.basicConfig(level=settings.log_level)
    app.url_map.converters.update(path_ids.CONVERTERS)
    if database is None:
        engine = make_engine(
            settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        database = Database(engine)
    app.extensions["ri.settings"] = settings
    app.extensions["ri.database"] = database


def settings() -> Settings:
    return current_app.extensions["ri.settings"]


def database() -> Database:
    return current_app.extensions["ri.database"]


def uow_factory():
    """What services take: a callable that opens a new unit of work on this app's database."""
    return partial(UnitOfWork, database())


def policies():
    """The returns and grading policies, read once per app from config/."""
    from .services.policies import Policies

    if "ri.policies" not in current_app.extensions:
        current_app.extensions["ri.policies"] = Policies.from_settings(settings())
    return current_app.extensions["ri.policies"]
