"""A category's fill-rate target is its pooled fill: one cycle level for all its series."""

import numpy as np
import pytest

from forecasting.lost_sales import simulate_lost_sales
from forecasting.replenishment import ReplenishmentOptions, order_up_to

WEEKS = 3


def _category(n_fast=20, n_slow=20):
    """Fast smooth series (20 a week, sd 6) beside slow erratic ones (0.5 a week, var 1.5)."""
    fast = np.arange(n_fast + n_slow) < n_fast
    mean = np.where(fast, 20.0, 0.5) * WEEKS
    var = np.where(fast, 36.0, 1.5) * WEEKS
    return mean, var, ~fast


def _levels(mean, var, slow, fill, *, scope, group=None):
    n = len(mean)
    return order_up_to(
        demand_window=mean,
        returns_window=np.zeros(n),
        sigma_week=np.sqrt(var / WEEKS),
        sigma_window=np.sqrt(var),
        weeks=np.full(n, WEEKS),
        service_level=fill,
        intermittent=slow,
        on_hand=np.zeros(n),
        reserved=np.zeros(n),
        on_order=np.zeros(n),
        case_pack=np.ones(n),
        moq=np.zeros(n),
        target=np.full(n, "fill", dtype=object),
        group=group,
        options=ReplenishmentOptions(fill_scope=scope),
    )


def _replay(levels, mean, var, slow, rows=slice(None)):
    """Fill and average stock of ``levels`` in a fresh simulation (other random numbers)."""
    served, demand, held = simulate_lost_sales(
        mean[rows],
        var[rows],
        np.full(len(mean), WEEKS)[rows],
        levels[rows, None],
        discrete=slow[rows],
        periods=4000,
        seed=7,
    )
    return served.sum() / demand.sum(), held.sum()


def test_a_pooled_fill_target_is_met_with_less_stock_than_the_same_fill_on_every_series():
    mean, var, slow = _category()
    fill = np.full(len(mean), 0.95)
    pooled = _levels(mean, var, slow, fill, scope="category")
    each = _levels(mean, var, slow, fill, scope="item")
    fill_pooled, stock_pooled = _replay(pooled["order_up_to"], mean, var, slow)
    fill_each, stock_each = _replay(each["order_up_to"], mean, var, slow)
    # both reach the category's 95 % ...
    assert fill_pooled == pytest.approx(0.95, abs=0.01)
    assert fill_each == pytest.approx(0.95, abs=0.01)
    # ... but 95 % on every slow series is bought dearly: the pooled one holds a fifth less
    assert stock_pooled < 0.8 * stock_each
    # one cycle level for the whole category, reported with each suggestion
    assert np.unique(pooled["cycle_level"]).size == 1
    assert 0.5 < pooled["cycle_level"][0] < 0.95
    assert np.isnan(each["cycle_level"]).all()


def test_each_category_gets_its_own_cycle_level_and_meets_its_own_fill():
    mean, var, slow = _category()
    mean, var, slow = np.r_[mean, mean], np.r_[var, var], np.r_[slow, slow]
    n = len(mean) // 2
    group = np.repeat([0, 1], n)
    fill = np.where(group == 0, 0.90, 0.98)
    plan = _levels(mean, var, slow, fill, scope="category", group=group)
    level = plan["cycle_level"]
    assert np.unique(level[:n]).size == 1 and np.unique(level[n:]).size == 1
    assert level[0] < level[n]
    for g, target in ((0, 0.90), (1, 0.98)):
        rows = slice(g * n, (g + 1) * n)
        got, _ = _replay(plan["order_up_to"], mean, var, slow, rows)
        assert got == pytest.approx(target, abs=0.01)


def test_an_unknown_fill_scope_is_refused():
    with pytest.raises(ValueError, match="fill_scope"):
        ReplenishmentOptions(fill_scope="warehouse")
