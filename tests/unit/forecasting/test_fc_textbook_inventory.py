"""Safety stock and order-up-to arithmetic against textbook cases.

Source: L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley,
2019: ch. 4 (stochastic inventory, periodic review: the newsvendor's critical-ratio quantile
S* = F^-1(p / (p + h)) and, for normal demand, S* = mu + z sigma; the base-stock level for a
lead time, protecting L + R periods: mu (L+R) + z sigma sqrt(L+R); for discrete demand the
smallest S with F(S) >= the service level) and ch. 5 (type-1 service level alpha: safety stock
z_alpha sigma_L). The numbers below are worked by hand from those formulas, with z values from
standard normal tables.
"""

import numpy as np
import pytest

from forecasting.replenishment import (
    ReplenishmentOptions,
    order_up_to,
    round_order,
    safety_stock_normal,
    safety_stock_quantile,
)


def plan(**kw):
    base = dict(demand_window=0.0, returns_window=0.0, sigma_week=0.0, weeks=1,
                service_level=0.95, intermittent=False, on_hand=0.0, reserved=0.0, on_order=0.0,
                case_pack=1, moq=0)
    base.update(kw)
    return {k: np.atleast_1d(v) for k, v in order_up_to(**{
        k: np.atleast_1d(v) if k != "options" else v for k, v in base.items()}).items()}


def test_base_stock_level_protects_lead_time_plus_review_period():
    # mu = 100/week, sigma = 20/week, L = 2, R = 1, alpha = 0.95 (z = 1.6449 from the table):
    # SS = 1.6449 * 20 * sqrt(3) = 1.6449 * 20 * 1.73205 = 56.98; S = 300 + 56.98 = 356.98
    out = plan(demand_window=300.0, sigma_week=20.0, weeks=3, service_level=0.95)
    assert out["safety_stock"][0] == pytest.approx(56.98, abs=0.01)
    assert out["order_up_to"][0] == pytest.approx(356.98, abs=0.01)


def test_newsvendor_quantity_is_the_critical_ratio_quantile():
    # Single period (L = 0, R = 1), mu = 50, sigma = 8, holding h = 1, shortage p = 3:
    # critical ratio 3 / 4 = 0.75, z(0.75) = 0.6745, S* = 50 + 8 * 0.6745 = 55.40
    out = plan(demand_window=50.0, sigma_week=8.0, weeks=1, service_level=3 / (3 + 1))
    assert out["order_up_to"][0] == pytest.approx(55.40, abs=0.01)


def test_type_one_service_safety_stock_over_lead_time():
    # Ch. 5: sigma_L = sigma sqrt(L). sigma = 10/week, L = 4, alpha = 0.90 (z = 1.2816):
    # SS = 1.2816 * 10 * 2 = 25.63
    assert safety_stock_normal(10 * np.sqrt(4), 0.90) == pytest.approx(25.63, abs=0.01)


def test_order_is_order_up_to_level_minus_inventory_position():
    # S = 356.98 (above); on hand 150, reserved 30, on order 60 -> IP = 180;
    # raw order 176.98, rounded up to a case of 12 -> 15 cases = 180
    out = plan(demand_window=300.0, sigma_week=20.0, weeks=3, on_hand=150.0, reserved=30.0,
               on_order=60.0, case_pack=12)
    assert out["inventory_position"][0] == 180.0
    assert out["raw_order"][0] == pytest.approx(176.98, abs=0.01)
    assert out["order_qty"][0] == 180.0


def test_no_order_when_inventory_position_covers_the_level():
    out = plan(demand_window=300.0, sigma_week=20.0, weeks=3, on_hand=400.0)
    assert out["raw_order"][0] == 0.0 and out["order_qty"][0] == 0.0


def test_discrete_base_stock_is_the_smallest_level_reaching_the_service_level():
    # Poisson demand with mean 2/week over L + R = 3 weeks: D ~ Poisson(6).
    # P(D <= 9) = 0.9161 < 0.95 <= P(D <= 10) = 0.9574, so S = 10 and SS = 10 - 6 = 4.
    assert safety_stock_quantile(6.0, 6.0, 0.95) == pytest.approx(4.0)
    out = plan(demand_window=6.0, sigma_week=np.sqrt(2.0), weeks=3, intermittent=True)
    assert out["order_up_to"][0] == pytest.approx(10.0)


def test_quantile_method_widens_for_overdispersed_intermittent_demand():
    poisson = safety_stock_quantile(6.0, 6.0, 0.95)
    lumpy = safety_stock_quantile(6.0, 30.0, 0.95)
    assert lumpy > poisson


def test_expected_returns_lower_the_level_one_for_one():
    blind = plan(demand_window=300.0, sigma_week=20.0, weeks=3, returns_window=0.0)
    aware = plan(demand_window=300.0, sigma_week=20.0, weeks=3, returns_window=45.0,
                 options=ReplenishmentOptions(returns_variance=False))
    assert blind["order_up_to"][0] - aware["order_up_to"][0] == pytest.approx(45.0)


def test_returns_variance_is_added_to_the_safety_stock_variance():
    # Returns from past sales, 25 expected (Poisson variance 25):
    # sigma_window = sqrt(20^2 * 3 + 25) = sqrt(1225) = 35; SS = 1.6449 * 35 = 57.57
    out = plan(demand_window=300.0, sigma_week=20.0, weeks=3, returns_window=25.0)
    assert out["sigma_window"][0] == pytest.approx(35.0)
    assert out["safety_stock"][0] == pytest.approx(57.57, abs=0.01)


def test_returns_of_the_windows_own_sales_thin_the_demand_variance():
    # 60 of the 300 units sold in the window come back within it: q = 0.2.
    # Var = 1200 * 0.8^2 + 300 * 0.2 * 0.8 = 768 + 48 = 816
    out = plan(demand_window=300.0, sigma_week=20.0, weeks=3, returns_window=60.0,
               returns_past=0.0)
    assert out["sigma_window"][0] ** 2 == pytest.approx(816.0)


@pytest.mark.parametrize(("rule", "expected", "flag"), [
    ("raise", 48.0, 1), ("drop", 0.0, -1), ("nearest", 0.0, -1)])
def test_an_order_below_the_moq_is_raised_or_dropped_by_rule(rule, expected, flag):
    # raw 13 -> 2 cases of 12 = 24 < MOQ 40; raising goes to the next case multiple, 48.
    qty, applied = round_order(np.array([13.0]), np.array([12]), np.array([40]), rule=rule,
                               threshold=0.75)
    assert qty[0] == expected and applied[0] == flag


def test_nearest_rule_raises_an_order_close_to_the_moq():
    qty, applied = round_order(np.array([31.0]), np.array([1]), np.array([40]), rule="nearest",
                               threshold=0.75)
    assert qty[0] == 40.0 and applied[0] == 1


def test_an_unknown_moq_rule_is_refused():
    with pytest.raises(ValueError):
        ReplenishmentOptions(moq_rule="round")
