"""What every demo load shares: once per database, only into an empty one, then logins and a
first forecast run."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from ..domain.errors import Conflict
from ..persistence.uow import UowFactory
from ..services.demo_marker import demo_marker, holds_data, mark_demo_loaded
from ..services.forecast_runs import RunRequest, run_forecast
from ..services.users import create_user

DEMO_ROLES = ("grader", "planner", "admin")  # each demo login is named after its role


@dataclass
class LoadReport:
    skipped: str | None = None  # why nothing was loaded
    imports: dict[str, str] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    forecast: dict | None = None
    logins: dict[str, str] = field(default_factory=dict)  # username -> password (new ones)
    seconds: float = 0.0


def guarded_load(
    uow_factory: UowFactory,
    settings,
    *,
    fingerprint: str,
    load: Callable[[LoadReport], int],
    as_of: date | Callable[[], date],
    actor: str = "demo",
    say: Callable[[str], None] = lambda _m: None,
) -> LoadReport:
    """Run `load` (it returns the rows loaded) unless a demo is already here or the database
    holds other data.

    The marker (an import batch of kind "demo") is written once the data is in, so a second
    load does nothing; a load killed half-way leaves no marker but a non-empty database,
    which is refused rather than topped up twice.
    """
    report = LoadReport()
    started = time.perf_counter()
    marker = demo_marker(uow_factory)
    if marker is not None:
        report.skipped = (f"the demo was already loaded ({marker.actor}, "
                          f"{marker.created_at:%Y-%m-%d %H:%M} UTC); nothing was changed")
        return report
    if holds_data(uow_factory):
        report.skipped = ("the database already holds items, locations or sales; the demo "
                          "loads only into an empty database (nothing was changed)")
        return report
    rows = load(report)
    mark_demo_loaded(uow_factory, fingerprint=fingerprint, actor=actor, rows=rows)
    report.logins = create_demo_logins(uow_factory)
    day = as_of() if callable(as_of) else as_of  # known only once the data has been read
    say(f"forecasting as of {day.isoformat()}")
    report.forecast = run_forecast(
        uow_factory, settings, RunRequest(as_of=day, actor=actor, trigger="cli")
    )
    report.seconds = time.perf_counter() - started
    return report


def every(seconds: float, say: Callable[[str], None],
          clock: Callable[[], float] = time.monotonic) -> Callable[[str, bool], None]:
    """`say`, but at most once per `seconds` unless told the message must be said (the first
    and last step of a phase): progress a person can follow without a screenful per second."""
    last = [float("-inf")]

    def tell(message: str, must: bool = False) -> None:
        now = clock()
        if must or now - last[0] >= seconds:
            last[0] = now
            say(message)

    return tell


def create_demo_logins(uow_factory: UowFactory) -> dict[str, str]:
    """One web login per role, named after it, with a fresh random password each.

    Passwords are random rather than fixed so a demo left listening on a network is not
    open to anyone who has read this file; they are shown once, by the caller.
    """
    made = {}
    for role in DEMO_ROLES:
        password = secrets.token_urlsafe(9)
        try:
            create_user(uow_factory, username=role, role=role, password=password,
                        display_name=f"Demo {role}")
        except Conflict:
            continue  # someone made this login already; their password stands
        made[role] = password
    return made
