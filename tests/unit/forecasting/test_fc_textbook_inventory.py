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
from forecasting.service import normal_loss, rq_cost, rq_eil, rq_exact


def plan(**kw):
    base = dict(demand_window=0.0, returns_window=0.0, sigma_week=0.0, weeks=1,
                service_level=0.95, intermittent=False, on_hand=0.0, reserved=0.0, on_order=0.0,
                case_pack=1, moq=0)
    base.update(kw)
    return {k: np.atleast_1d(v) for k, v in order_up_to(**{
        k: np.atleast_1d(v) if k not in ("options", "target") else v
        for k, v in base.items()}).items()}


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
    with pytest.raises(ValueError, match="moq_rule"):
        ReplenishmentOptions(moq_rule="round")


# The textbook's fill-rate formulas are for backorders (a shortage is served from the next
# delivery); the shop's default is lost sales, checked by simulation below.
BACKORDERS = ReplenishmentOptions(lost_sales=False)


# Service targets and (r,Q), Snyder & Shen ch. 4-5. Instance data as in the book: Example 4.3
# (= 4.1) h = 0.18, p = 0.70, D ~ N(50, 8^2); Example 4.4 the same with lead time L = 4;
# Examples 5.1-5.2: h = 0.225, p = 7.50, K = 8, lambda = 1300 / year, sd 150 / year, L = 1/12.

def test_example_4_3_a_cost_target_orders_up_to_the_newsvendor_quantity():
    # critical ratio 0.70 / 0.88 = 0.7955, z = 0.8255: S* = 50 + 8 * 0.8255 = 56.60
    out = plan(demand_window=50.0, sigma_week=8.0, weeks=1, service_level=0.0,
               target="cost", holding=0.18, shortage=0.70)
    assert out["order_up_to"][0] == pytest.approx(56.60, abs=0.01)
    assert out["cycle_level"][0] == pytest.approx(0.70 / 0.88)


def test_example_4_4_base_stock_with_a_lead_time_protects_l_plus_one_periods():
    # S* = 50 * 5 + 0.8255 * 8 * sqrt(5) = 250 + 14.77 = 264.77
    out = plan(demand_window=250.0, sigma_week=8.0, weeks=5, service_level=0.0,
               target="cost", holding=0.18, shortage=0.70)
    assert out["order_up_to"][0] == pytest.approx(264.77, abs=0.01)


def test_a_fill_rate_target_sets_the_expected_shortage_through_the_normal_loss_function():
    # Example 4.4's demand with a 98 % fill rate (type 2): shortage per period allowed
    # (1 - 0.98) * 50 = 1.0 = sigma_W L(z), sigma_W = 8 sqrt(5) = 17.889, so L(z) = 0.0559.
    # Standard normal loss table: L(1.20) = 0.0561, L(1.21) = 0.0550 -> z = 1.2019;
    # S = 250 + 1.2019 * 17.889 = 271.50. (The shortage carried over the 4-period lead time
    # alone, at z = (271.5 - 200) / 16 = 4.47, is negligible.)
    assert normal_loss(1.20) == pytest.approx(0.0561, abs=1e-4)
    out = plan(demand_window=250.0, sigma_window=8.0 * np.sqrt(5), weeks=5, review=1,
               service_level=0.98, target="fill", options=BACKORDERS)
    assert out["order_up_to"][0] == pytest.approx(271.50, abs=0.05)
    assert np.isnan(out["cycle_level"][0])


def test_a_fill_rate_target_for_a_slow_mover_uses_the_poisson_loss_function():
    # Poisson demand, 2 a week, L + R = 3 (mean 6), R = 1; 95 % fill allows 0.1 short a cycle.
    # n(S) = (mu - S) P(D > S) + mu P(D = S): n_6(9) - n_4(9) = 0.1613 - 0.0123 = 0.149 > 0.1,
    # n_6(10) - n_4(10) = 0.0773 - 0.0041 = 0.073 <= 0.1, so S = 10.
    out = plan(demand_window=6.0, sigma_window=np.sqrt(6.0), weeks=3, review=1,
               service_level=0.95, target="fill", intermittent=True, options=BACKORDERS)
    assert out["order_up_to"][0] == pytest.approx(10.0)


def test_example_5_2_eil_approximation_gives_r_and_q():
    r, q = rq_eil(0.225, 7.5, 8, 1300, 1300 / 12, 150 * np.sqrt(1 / 12))
    assert r == pytest.approx(213.97, abs=0.01)
    assert q == pytest.approx(318.59, abs=0.01)


def test_example_5_1_exact_r_q_minimises_the_expected_cost():
    # The book's optimum: r = 126.8, Q = 328.5 with expected cost 78.07 a year.
    r, q, cost = rq_exact(0.225, 7.5, 8, 1300, 1300 / 12, 150 * np.sqrt(1 / 12))
    assert r == pytest.approx(126.8, abs=0.1)
    assert q == pytest.approx(328.5, abs=0.1)
    assert cost == pytest.approx(78.07, abs=0.01)
    assert rq_cost(126.8, 328.5, 0.225, 7.5, 8, 1300, 1300 / 12,
                   150 * np.sqrt(1 / 12)) == pytest.approx(78.07, abs=0.01)


def test_a_fixed_order_cost_orders_whole_lots_rounded_to_the_case_pack_and_moq():
    # 20 a week over L + R = 3 weeks (60), sigma 10, 95 % cycle: r = 60 + 16.45 = 76.45.
    # K = 50 per order, h = 0.1 per unit-week: EOQ = sqrt(2 * 50 * 20 / 0.1) = 141.4, up to
    # the case of 12 -> 144 (above the MOQ of 100). IP 10 <= r: one lot lifts it to 154 > r.
    out = plan(demand_window=60.0, sigma_window=10.0, weeks=3, on_hand=10.0, case_pack=12,
               moq=100, order_cost=50.0, holding=0.1)
    assert out["policy"][0] == "rQ"
    assert out["order_up_to"][0] == pytest.approx(76.45, abs=0.01)
    assert out["order_lot"][0] == 144.0
    assert out["order_qty"][0] == 144.0
    # above the reorder point nothing is ordered; far below it, whole lots
    assert plan(demand_window=60.0, sigma_window=10.0, weeks=3, on_hand=80.0, case_pack=12,
                moq=100, order_cost=50.0, holding=0.1)["order_qty"][0] == 0.0
    assert plan(demand_window=60.0, sigma_window=10.0, weeks=3, on_hand=-200.0, case_pack=12,
                moq=100, order_cost=50.0, holding=0.1)["order_qty"][0] == 288.0


def test_with_lost_sales_a_fill_rate_target_is_met_by_a_lower_level_and_reached():
    # N(10, 4^2) a week, L = 2, R = 1. Simulate the lost-sales system at the level chosen for
    # each target: the achieved fill is the target (within 1 point), while the backorder
    # formula's level would overshoot (about 0.946 for a 0.90 target).
    rng = np.random.default_rng(5)
    for beta in (0.90, 0.95, 0.98):
        s_lost = plan(demand_window=30.0, sigma_window=4 * np.sqrt(3), weeks=3,
                      service_level=beta, target="fill")["order_up_to"][0]
        s_back = plan(demand_window=30.0, sigma_window=4 * np.sqrt(3), weeks=3,
                      service_level=beta, target="fill", options=BACKORDERS)["order_up_to"][0]
        assert s_lost < s_back
        d = np.maximum(rng.normal(10, 4, 40_000), 0)
        on_hand, pipe, served = s_lost, np.zeros(len(d) + 4), 0.0
        for t, dt in enumerate(d):
            on_hand += pipe[t]
            sold = min(on_hand, dt)
            on_hand -= sold
            served += sold
            pipe[t + 3] += max(s_lost - on_hand - pipe[t + 1 : t + 3].sum(), 0)
        assert served / d.sum() == pytest.approx(beta, abs=0.01)
