"""Logging in to the web pages: failed attempts throttled, sessions that end server-side.

Several gunicorn workers answer logins, so both the failure counts and the sessions live in
the database, where every worker sees the same ones.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.errors import TooManyAttempts
from ..persistence.repositories.users import Person
from ..persistence.uow import UowFactory
from .users import authenticate_user, normal_username

USERNAME, ADDRESS = "username", "address"


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed in a sliding window, per username and per client address."""

    window_seconds: int = 900
    per_username: int = 5
    per_address: int = 50

    @classmethod
    def from_settings(cls, settings) -> LoginLimits:
        return cls(settings.login_window_seconds, settings.login_max_failures_per_username,
                   settings.login_max_failures_per_address)


def log_in(
    uow_factory: UowFactory, limits: LoginLimits, *, username: str, password: str,
    address: str | None, lifetime: timedelta, now: datetime | None = None,
) -> tuple[Person, str] | None:
    """The person and a new session id, or None when the username and password do not match.

    Raises TooManyAttempts, before any password is checked, while the username or the address
    has used up its failures: a guesser then costs a couple of index reads, not a hash.
    """
    now = now or datetime.now(UTC)
    username = normal_username(username)[:255]
    address = (address or "unknown")[:255]
    _refuse_while_throttled(uow_factory, limits, username, address, now)
    person = authenticate_user(uow_factory, username, password)
    with uow_factory() as uow:
        if person is None:
            uow.login_failures.add([(USERNAME, username), (ADDRESS, address)], at=now)
            uow.commit()
            return None
        # The address keeps its count: one valid login must not buy a guesser more tries.
        uow.login_failures.clear(USERNAME, username)
        session_id = secrets.token_urlsafe(32)
        uow.users.open_session(person.id, _key(session_id), now=now, expires_at=now + lifetime)
        uow.commit()
    return person, session_id


def session_person(uow_factory: UowFactory, session_id: str) -> Person | None:
    """The active person whose open session this is, or None (logged out, disabled, expired)."""
    with uow_factory(read_only=True) as uow:
        return uow.users.by_session(_key(session_id), now=datetime.now(UTC))


def log_out(uow_factory: UowFactory, session_id: str) -> None:
    """End this session now, on every worker; the person's other sessions stay open."""
    with uow_factory() as uow:
        uow.users.end_session(_key(session_id))
        uow.commit()


def purge_login_records(uow_factory: UowFactory, limits: LoginLimits, *, now: datetime) -> int:
    """Forget expired sessions and failures older than the window (the scheduler's job)."""
    with uow_factory() as uow:
        purged = uow.users.purge_sessions_expired_by(now)
        purged += uow.login_failures.purge_before(now - timedelta(seconds=limits.window_seconds))
        uow.commit()
    return purged


def _refuse_while_throttled(uow_factory: UowFactory, limits: LoginLimits, username: str,
                            address: str, now: datetime) -> None:
    window = timedelta(seconds=limits.window_seconds)
    waits = []
    with uow_factory(read_only=True) as uow:
        for kind, subject, limit in ((USERNAME, username, limits.per_username),
                                     (ADDRESS, address, limits.per_address)):
            if limit < 1:
                continue  # 0 switches this count off
            blocking = uow.login_failures.blocking_failure(kind, subject, since=now - window,
                                                           limit=limit)
            if blocking is not None:
                waits.append((blocking + window - now).total_seconds())
    if waits:
        wait = max(1, math.ceil(max(waits)))
        raise TooManyAttempts(
            f"Too many failed logins. Wait {_in_words(wait)} before trying again.",
            retry_after=wait,
        )


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
