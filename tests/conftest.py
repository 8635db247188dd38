"""Fixtures: every database test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

The schema is built once per backend with `alembic upgrade head`; each test then runs inside
a transaction that is rolled back (services commit savepoints inside it).
"""

from __future__ import annotations

from functools import partial

import pytest

from returns_inventory import create_app
from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.tokens import create_token
from returns_inventory.settings import Settings
from tests.databases import (
    POSTGRES_SKIP_REASON,
    POSTGRES_URL,
    SavepointDatabase,
    fresh_database,
)


def pytest_report_header(config):
    if POSTGRES_URL:
        return f"database tests: SQLite and PostgreSQL ({POSTGRES_URL})"
    return f"database tests: SQLite only — {POSTGRES_SKIP_REASON}"


def pytest_terminal_summary(terminalreporter):
    if not POSTGRES_URL:
        terminalreporter.write_line(f"NOTE: {POSTGRES_SKIP_REASON}", yellow=True)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """A database whose every change is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    yield SavepointDatabase(connection)
    outer.rollback()
    connection.close()


@pytest.fixture
def uow_factory(db):
    return partial(UnitOfWork, db)


@pytest.fixture
def committing_db(backend, tmp_path):
    """A real, committing database of its own, for concurrency and process tests."""
    with fresh_database(backend, tmp_path) as url:
        database = Database(make_engine(url))
        yield database
        database.dispose()


@pytest.fixture
def settings(tmp_path, database_url):
    return Settings.load(
        env={"RI_INSTANCE_PATH": str(tmp_path / "instance")},
        database_url=database_url,
        secret_key="test-secret",
    )


@pytest.fixture
def app(settings, db):
    app = create_app(settings)
    app.extensions["ri.database"].dispose()
    app.extensions["ri.database"] = db
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(uow_factory):
    """auth("planner") -> headers carrying a fresh token with that role."""

    def headers(role: str = "admin", name: str | None = None) -> dict[str, str]:
        issued = create_token(uow_factory, name=name or f"test-{role}", role=role)
        return {"Authorization": f"Bearer {issued.secret}"}

    return headers
