"""A Dask worker gets the database's address from the driver, and its password from its own
environment, never through the task graph."""

from __future__ import annotations

from returns_inventory.persistence.engine import worker_url

SENT = "postgresql+psycopg://planner@db.internal:5432/returns"


def test_the_workers_own_url_supplies_the_password_for_the_same_database(monkeypatch):
    own = "postgresql+psycopg://planner:s3cret@db.internal:5432/returns"
    monkeypatch.setenv("RI_DATABASE_URL", own)
    assert worker_url(SENT) == own


def test_a_url_for_another_database_is_not_used(monkeypatch):
    monkeypatch.setenv("RI_DATABASE_URL", "postgresql+psycopg://planner:x@db.internal/other")
    assert worker_url(SENT) == SENT


def test_without_its_own_url_a_worker_leaves_the_password_to_libpq(monkeypatch):
    monkeypatch.delenv("RI_DATABASE_URL", raising=False)
    assert worker_url(SENT) == SENT
