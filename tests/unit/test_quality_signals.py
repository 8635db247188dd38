"""The quality scorecards' and alerts' statistics, on synthetic suppliers whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from returns_inventory.domain.errors import Refused, ValidationFailed
from returns_inventory.domain.quality import (
    AlertPolicy,
    AlertRule,
    Cell,
    category_rate,
    compare_with_category,
    flagged_groups,
    wilson_interval,
)

CLEAN = ["S0", "S1", "S2", "S3", "S4"]
BATCH_WEEK = 12  # the bad batch reaches BAD's sales in this week
STATED_WEEKS = 4  # ...and must be flagged within this many weeks
WINDOW = 8  # weeks of sales the alert looks at, like window_days = 56


def _weekly_flags(seed: int, *, weeks: int = 26, base: float = 0.03, bad: float = 0.12,
                  per_week: int = 150) -> dict[int, set[str]]:
    """Six suppliers of tops selling ~150 a week; 3% come back for quality, except BAD's
    sales from BATCH_WEEK on (12%). Each return arrives a geometric number of weeks after its
    sale (median ~1), and on each week the alert sees only what has arrived by then."""
    rng = np.random.default_rng(seed)
    names = [*CLEAN, "BAD"]
    sold = rng.poisson(per_week, (len(names), weeks))
    rate = np.full(sold.shape, base)
    rate[-1, BATCH_WEEK:] = bad
    back = rng.binomial(sold, rate)
    arrived = np.zeros((len(names), weeks, weeks), dtype=int)  # [supplier, sale week, by week]
    for s in range(len(names)):
        for w in range(weeks):
            for delay in rng.geometric(0.45, back[s, w]) - 1:
                if w + delay < weeks:
                    arrived[s, w, w + delay:] += 1
    flags = {}
    for week in range(WINDOW - 1, weeks):
        recent = slice(week - WINDOW + 1, week + 1)
        cells = [Cell(name, "tops", int(sold[s, recent].sum()),
                      int(arrived[s, recent, week].sum())) for s, name in enumerate(names)]
        flags[week] = set(flagged_groups(compare_with_category(cells)))
    return flags


@pytest.mark.parametrize("seed", range(10))
def test_a_supplier_with_a_bad_batch_is_flagged_within_four_weeks_and_a_clean_one_never(seed):
    flags = _weekly_flags(seed)
    assert all("BAD" not in flags[w] for w in flags if w < BATCH_WEEK)
    assert all("BAD" in flags[w] for w in flags if w >= BATCH_WEEK + STATED_WEEKS)
    assert all(not (flags[w] & set(CLEAN)) for w in flags), "a clean supplier was flagged"


def test_a_supplier_is_compared_within_its_category_not_with_other_categories():
    # Shoes come back for quality four times as often as socks; a shoe supplier at the shoe
    # rate is not worse, and a sock supplier at the shoe rate is.
    cells = [Cell("SHOEMAKER", "shoes", 1000, 120), Cell("SHOECO", "shoes", 1000, 118),
             Cell("SOCKCO", "socks", 1000, 30), Cell("KNITCO", "socks", 1000, 31),
             Cell("CHEAPSOCK", "socks", 1000, 120)]
    tests = compare_with_category(cells)
    assert set(flagged_groups(tests)) == {"CHEAPSOCK"}
    # The correction runs over the whole report: five tests, one family.
    assert all(t.comparison.q_value >= t.comparison.p_value for t in tests)


def test_the_category_rate_weights_each_category_by_what_the_group_sold_there():
    cells = [Cell("MIX", "shoes", 100, 10), Cell("MIX", "socks", 300, 3),
             Cell("A", "shoes", 900, 108), Cell("B", "socks", 900, 9)]
    mix = [t for t in compare_with_category(cells) if t.group == "MIX"]
    assert category_rate(mix) == pytest.approx((100 * 0.12 + 300 * 0.01) / 400)


def test_the_wilson_interval_holds_the_rate_and_stays_within_zero_and_one():
    low, high = wilson_interval(20, 100)
    assert low == pytest.approx(0.1333, abs=1e-4) and high == pytest.approx(0.2888, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) is None


ALERT = {"by": "supplier", "group": "BADCO", "category": "tops", "share": 0.2,
         "rest_share": 0.025, "q_value": 0.0001}


def test_the_alert_rule_holds_or_caps_an_approval_only_while_flagged():
    AlertPolicy(rule=AlertRule.MARK).check_approval([ALERT], 40, 36)
    AlertPolicy(rule=AlertRule.HOLD).check_approval([], 40, 36)
    with pytest.raises(Refused) as held:
        AlertPolicy(rule=AlertRule.HOLD).check_approval([ALERT], 10, 36)
    assert held.value.extra["rule"] == "quality_hold"
    AlertPolicy(rule=AlertRule.CAP).check_approval([ALERT], 36, 36)
    with pytest.raises(ValidationFailed) as capped:
        AlertPolicy(rule=AlertRule.CAP).check_approval([ALERT], 42, 36)
    assert capped.value.errors[0].field == "quantity"


def test_the_alert_policy_reads_its_section_and_refuses_an_unknown_rule():
    policy = AlertPolicy.from_config({"quality_alerts": {"window_days": 28, "rule": "hold"}})
    assert policy == AlertPolicy(window_days=28, rule=AlertRule.HOLD)
    assert AlertPolicy.from_config({}) == AlertPolicy()
    with pytest.raises(ValueError, match="ignore"):
        AlertPolicy.from_config({"quality_alerts": {"rule": "ignore"}})
