"""People who log in to the web pages, and the leases that keep scheduled jobs single."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from .tables import Timestamp, metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("disabled_at", Timestamp),
)

job_leases = Table(
    "job_leases",
    metadata,
    # One row per job id: whoever holds an unexpired lease runs the job; others skip.
    Column("job_id", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("acquired_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
)
