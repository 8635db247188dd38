"""People who log in to the web pages, their sessions and failed logins, and the leases that
keep scheduled jobs single."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from .tables import BigId, Timestamp, metadata

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

web_sessions = Table(
    "web_sessions",
    metadata,
    # A session lives here as well as in its signed cookie, so logging out (or disabling the
    # person) ends it at once on every worker. The key is the SHA-256 of the cookie's session
    # id: a copy of this table opens no sessions.
    Column("id", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

login_failures = Table(
    "login_failures",
    metadata,
    # One row per failed login, counted twice: once per username, once per client address.
    # Rows are only ever inserted and deleted, so counting them never waits for a lock.
    Column("id", BigId, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("failed_at", Timestamp, nullable=False),
    Index("ix_login_failures_kind_subject_failed_at", "kind", "subject", "failed_at"),
    Index(None, "failed_at"),
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
