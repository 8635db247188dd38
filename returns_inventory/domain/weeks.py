"""Planning weeks: Monday to Sunday, counted as integers so sales, returns and forecasts of one
week share one index whatever layer computes it."""

from __future__ import annotations

from datetime import date, timedelta

# Week 0 starts on Monday 3 January 2000; every week index in the run counts from there.
EPOCH = date(2000, 1, 3)


def week_of(day: date) -> int:
    """The index of the week holding ``day``."""
    return (day - EPOCH).days // 7


def monday_of(week: int) -> date:
    """The first day of week ``week``."""
    return EPOCH + timedelta(weeks=week)
