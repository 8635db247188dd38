"""A kept returns report takes in only rows it has not counted, and is read again in full
whenever it cannot know that (services/analytics_report.py, _brought_up_to)."""

from __future__ import annotations

from datetime import date

import numpy as np

from returns_inventory.domain.sales_window import SalesWindow
from returns_inventory.persistence.repositories.analytics import ChangeStamp
from returns_inventory.services import analytics_report
from returns_inventory.services.analytics import size_key
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings

POLICY = Policies.from_settings(Settings.load(env={})).returns
WINDOW = SalesWindow(date(2026, 11, 1), date(2026, 11, 30))
ITEMS = ("day-1",)
SIZES = {1: "S", 2: "M"}


class Repository:
    """Sales lines and returned units with ids, as the analytics repository reads them."""

    def __init__(self):
        self.sold = [(1, 1, 10), (2, 2, 8)]  # (id, item_id, units)
        self.returned = [(1, 1, "too_small")]  # (id, item_id, reason)
        self.counted_near: dict[str, int] | None = None

    def stamp(self, items=ITEMS) -> ChangeStamp:
        newest_sale, newest_unit = max(r[0] for r in self.sold), max(r[0] for r in self.returned)
        return ChangeStamp((("sales_lines", newest_sale, len(self.sold)),
                            ("return_units", newest_unit, len(self.returned)),
                            ("imported_returns", 0, 0)), items)

    def units_sold(self, window, ids=None):
        after, upto = ids or (-1, 10**9)
        units: dict[int, int] = {}
        for line, item, n in self.sold:
            if after < line <= upto:
                units[item] = units.get(item, 0) + n
        return [{"item_id": i, "sku": "TEE", "size": SIZES.get(i, "L"), "category": "tops",
                 "units": n} for i, n in units.items()]

    def units_returned(self, window, ids=None):
        after, upto = (ids or {}).get("return_units", (-1, 10**9))
        return [{"item_id": item, "reason": reason, "units": 1}
                for unit, item, reason in self.returned if after < unit <= upto]

    def change_stamp(self) -> ChangeStamp:
        return self.stamp()

    def summed_sold(self, window):  # the day summaries count what the lines count
        return self.units_sold(window)

    def summed_returned(self, window):
        return self.units_returned(window)

    def rows_within(self, ranges):
        return self.counted_near or {
            name: sum(1 for r in {"sales_lines": self.sold, "return_units": self.returned,
                                  "imported_returns": []}[name] if after < r[0] <= upto)
            for name, (after, upto) in ranges.items()}


def _kept(repository):
    stamp = repository.stamp()
    return analytics_report._build(repository, POLICY, WINDOW, size_key(("S", "M")), stamp), stamp


def _up_to_date(repository, kept, was, now):
    return analytics_report._brought_up_to(repository, POLICY, WINDOW, kept, was, now)


def test_rows_added_since_are_added_once_and_equal_a_report_read_afresh():
    repository = Repository()
    kept, was = _kept(repository)
    repository.sold.append((3, 1, 5))
    repository.returned.append((2, 2, "too_large"))
    updated = _up_to_date(repository, kept, was, repository.stamp())
    afresh, _ = _kept(repository)
    assert updated is not None
    assert np.array_equal(updated.sold, afresh.sold) and updated.sold.tolist() == [15, 8]
    assert np.array_equal(updated.reasons, afresh.reasons)
    assert np.array_equal(updated.tests.sizes.p_value, afresh.tests.sizes.p_value)


def test_a_changed_item_or_a_first_sale_of_an_item_means_reading_it_all_again():
    repository = Repository()
    kept, was = _kept(repository)
    assert _up_to_date(repository, kept, was, repository.stamp(items=("day-2",))) is None
    repository.sold.append((3, 3, 1))  # an item the report had not seen
    assert _up_to_date(repository, kept, was, repository.stamp()) is None


def test_a_row_committed_below_ids_already_counted_means_reading_it_all_again():
    repository = Repository()
    kept, was = _kept(repository)
    # Same newest id, one more row near it: a transaction with a lower id committed late.
    late = repository.stamp()
    assert _up_to_date(repository, kept, was._replace(growing=(
        ("sales_lines", 2, 1), *was.growing[1:])), late) is None
    # A newer id, and the old newest ids no longer count what they did.
    repository.sold.append((3, 1, 5))
    repository.counted_near = {"sales_lines": 3}
    assert _up_to_date(repository, kept, was, repository.stamp()) is None
    repository.counted_near = None
    assert _up_to_date(repository, kept, was, repository.stamp()) is not None


class CommittingWhileSummed(Repository):
    """A sale committed between the stamp and the sums: the sums count it."""

    def summed_sold(self, window):
        self.sold.append((3, 1, 5))
        return self.units_sold(window)


def test_a_row_committed_while_the_report_is_summed_is_counted_once():
    repository = CommittingWhileSummed()
    kept, was = _kept(repository)
    assert kept.sold.tolist() == [15, 8] and not kept.settled
    # Bringing it up to date would add that sale again (its id is past the stamp's).
    assert _up_to_date(repository, kept, was, repository.stamp()) is None
