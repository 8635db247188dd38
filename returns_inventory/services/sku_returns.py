"""One SKU's returns week by week, by the week of the sale: the return rate and the reasons."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from ..domain.sales_window import SalesWindow
from ..domain.weeks import monday_of, week_of
from ..persistence.uow import UowFactory


def weekly_returns(uow_factory: UowFactory, sku: str, *, since: date, until: date) -> list[dict]:
    """[{week (Monday), units_sold, units_returned, return_rate, reasons: {code: units}}] for
    every week of the window, oldest first; weeks without sales have no rate."""
    window = SalesWindow(since, until, sku, None)
    with uow_factory() as uow:
        sold = uow.analytics.sold_by_day(window)
        returned = uow.analytics.returned_by_day(window)
    units: Counter = Counter()
    reasons: dict[int, Counter] = defaultdict(Counter)
    for row in sold:
        units[week_of(row["sold_on"])] += int(row["units"])
    for row in returned:
        reasons[week_of(row["sold_on"])][row["reason"]] += int(row["units"])
    out = []
    for week in range(week_of(since), week_of(until) + 1):
        back = sum(reasons[week].values())
        out.append({"week": monday_of(week), "units_sold": units[week], "units_returned": back,
                    "return_rate": back / units[week] if units[week] else None,
                    "reasons": dict(reasons[week])})
    return out
