"""What every job function receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..persistence.uow import UowFactory
from ..settings import Settings


@dataclass(frozen=True)
class JobContext:
    job_id: str
    settings: Settings
    uow_factory: UowFactory
    now: datetime  # when this run started, UTC
    holder: str = ""  # the scheduler process running it (host:pid), as its leases name it
