"""`python -m returns_inventory.jobs`: the scheduler process (`returns-inventory scheduler`)."""

from __future__ import annotations

from ..settings import Settings
from .scheduler import run_scheduler


def main() -> None:
    run_scheduler(Settings.load())


if __name__ == "__main__":
    main()
