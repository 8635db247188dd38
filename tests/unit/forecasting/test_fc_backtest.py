"""Backtests: accuracy metrics, and the inventory replay return-aware against return-blind."""

import numpy as np
import pytest
from scipy import stats

from forecasting.backtest import (
    ReplayReport,
    errors,
    errors_at_bias,
    replay,
    rolling_accuracy,
    series_mase,
)
from forecasting.panel import ItemParams, ReturnsData, SalesPanel
from forecasting.synthetic import make_apparel_panel


@pytest.fixture(scope="module")
def panel():
    return make_apparel_panel(1500, seed=21)


def test_mase_wape_and_bias_match_the_hand_calculation():
    # History 2, 4, 2, 4: mean absolute one-week change 2. Actual 3, 3; forecast 4, 2.
    # MAE 1 -> MASE 0.5; WAPE 2 / 6; bias 0 / 6.
    out = errors(np.array([[4.0, 2.0]]), np.array([[3.0, 3.0]]), np.array([[2.0, 4, 2, 4]]))
    assert out == pytest.approx({"mase": 0.5, "mase_median": 0.5, "mase_m": 1, "wape": 1 / 3,
                                 "bias": 0.0})


def test_mase_is_scaled_by_the_seasonal_naive_error_once_there_are_two_seasons():
    # A 52-week pattern that rises 1 unit a year: same week last year misses by exactly 1.
    # Forecast off by 2 every week -> MASE 2 with m = 52.
    t = np.arange(2 * 52 + 4)
    pattern = 10 + 8 * np.sin(2 * np.pi * t / 52) + t // 52
    history, actual = pattern[None, :104], pattern[None, 104:]
    out = errors(actual + 2, actual, history)
    assert out["mase_m"] == 52
    assert out["mase"] == pytest.approx(2.0)
    short = errors(actual + 2, actual, history[:, 10:])  # under two seasons: one-week scale
    assert short["mase_m"] == 1
    assert short["mase"] > 2.5  # the slow sine changes by well under 1 unit a week


def test_per_series_mase_is_what_the_table_averages_and_a_flat_series_is_left_out():
    history = np.array([[2.0, 4, 2, 4], [1.0, 1, 1, 1], [0.0, 3, 0, 3]])
    actual = np.array([[3.0, 3.0], [1.0, 2.0], [3.0, 0.0]])
    forecast = np.array([[4.0, 2.0], [1.0, 1.0], [0.0, 0.0]])
    per, m = series_mase(forecast, actual, history)
    assert m == 1
    # MAE 1 over scale 2; a constant history has no scale; MAE 1.5 over scale 3.
    assert per[0] == pytest.approx(0.5) and np.isnan(per[1]) and per[2] == pytest.approx(0.5)
    out = errors(forecast, actual, history)
    assert out["mase"] == pytest.approx(0.5) and out["mase_median"] == pytest.approx(0.5)


def test_errors_at_a_rival_s_bias_score_the_forecast_scaled_to_that_total():
    # Lumpy weeks: one order of 12 in four weeks. A forecast at the mean (3 a week) is
    # unbiased; scaled to a bias of -50 % it forecasts 1.5 a week and scores a lower MASE,
    # which is why two methods are compared at the same total.
    history = np.array([[0.0, 12, 0, 0, 0, 12, 0, 0]])
    actual = np.array([[12.0, 0, 0, 0]])
    forecast = np.full((1, 4), 3.0)
    low = errors_at_bias(forecast, actual, history, -0.5)
    assert low["bias"] == pytest.approx(-0.5)
    assert low == pytest.approx(errors(forecast * 0.5, actual, history))
    assert low["mase"] < errors(forecast, actual, history)["mase"]


def test_replay_reports_every_policy_and_target_and_compares_at_equal_fill(panel):
    rep = replay(panel.sales, panel.returns, panel.items, weeks=13, targets=(0.9, 0.95, 0.98))
    recs = rep.to_records()
    assert {(r["policy"], r["target"]) for r in recs} == {
        (p, t) for p in ("return_aware", "return_blind") for t in (0.9, 0.95, 0.98)}
    for r in recs:
        assert r["lost_sales"] == pytest.approx(r["demand"] * (1 - r["fill_rate"]))
        assert r["n_orders"] > 0 and r["units_ordered"] > 0 and 0 < r["cycle_service"] <= 1
    # higher targets buy more fill with more stock, for both policies
    for p in ("return_aware", "return_blind"):
        curve = sorted(rep.curves[p], key=lambda r: r["target"])
        assert [r["avg_on_hand"] for r in curve] == sorted(r["avg_on_hand"] for r in curve)
    aware = rep.stock_at_fill("return_aware", rep.aware["fill_rate"])
    assert aware == pytest.approx(rep.aware["avg_on_hand"])
    assert rep.saving_at_target(0.95) == pytest.approx(
        1 - rep.at_target("return_aware", 0.95)["avg_on_hand"]
        / rep.at_target("return_blind", 0.95)["avg_on_hand"])


def test_a_lost_sale_never_comes_back_as_a_return():
    # One series selling 10 a week for 40 weeks, then 400 a week for 4 weeks: the policy holds
    # far too little, so most of those sales are lost. Half of every week's recorded sales come
    # back (grade A) the next week. Only units actually sold may come back to the shelf.
    y = np.r_[np.full(40, 10.0), np.full(4, 400.0)][None, :].astype(np.float32)
    sales = SalesPanel(np.array(["T|M"]), y)
    weeks = np.arange(43)
    returns = ReturnsData(np.zeros(43, np.int64), weeks, weeks + 1, np.zeros(43, np.int8),
                          np.zeros(43, np.int8), (y[0, :43] / 2).astype(np.float32))
    rep = replay(sales, returns, ItemParams.uniform(1), weeks=4)
    row = rep.aware
    served = row["demand"] - row["lost_sales"]
    assert row["fill_rate"] < 0.3
    # returns of the 10-a-week history (5 back in the first replay week) plus half of what was
    # sold in the first three replay weeks, not half of the 1,200 units asked for
    assert row["returns_received"] <= 5 + served / 2 + 1e-6


def test_the_library_beats_seasonal_naive_and_reports_every_method(panel):
    acc = rolling_accuracy(panel.sales, panel.returns, panel.items, horizon=13, n_origins=1)
    by = acc.by_method()
    assert {"auto", "seasonal_naive", "ses", "croston", "sba", "tsb", "moving_average"} <= set(by)
    assert by["auto"]["wape"] < by["seasonal_naive"]["wape"]
    assert by["auto"]["mase_vs_snaive"] < 1.0
    assert by["seasonal_naive"]["mase_vs_snaive"] == pytest.approx(1.0)
    # two seasons are needed for seasonal ETS: on 91 weeks it falls back for every series
    assert by["ets_seasonal"]["fallback_series"] == len(panel.sales.ids)


def test_an_oracle_ordering_the_planner_s_own_levels_replays_exactly_as_the_planner():
    # The replay treats every policy alike: a policy handed the planner's return-aware levels
    # through the oracle hook gets the same fill, stock and orders; one ordering nothing sells
    # only what it started with and is reported under its own name.
    small = make_apparel_panel(200, seed=5)
    rep = replay(small.sales, small.returns, small.items, weeks=4, targets=(0.95,),
                 oracles={"copy": lambda week, level, plan, sold: plan.order_up_to,
                          "none": lambda week, level, plan, sold: np.zeros(len(plan.ids))})
    copy, aware = rep.at_target("copy", 0.95), rep.at_target("return_aware", 0.95)
    assert copy == pytest.approx(aware)
    assert rep.at_target("none", 0.95)["units_ordered"] == 0
    assert rep.at_target("none", 0.95)["fill_rate"] < aware["fill_rate"]


def test_stock_at_equal_fill_is_read_on_the_curve_not_on_its_chord():
    # Two policies on the same curve, stock = 100 + 50 z(fill): one measured at fills close to
    # 0.95, the other at fills far on either side. Both must read the same stock at 0.95; a
    # straight line between fills would charge the widely spaced one the chord above the curve.
    def row(f):
        return {"target": f, "fill_rate": f, "avg_on_hand": 100 + 50 * stats.norm.ppf(f)}

    rep = ReplayReport(curves={"near": [row(0.94), row(0.96)], "wide": [row(0.85), row(0.99)]},
                       weeks=13, n_series=1, targets=(0.9,), target_kind="fill")
    truth = 100 + 50 * stats.norm.ppf(0.95)
    assert rep.stock_at_fill("near", 0.95) == pytest.approx(truth)
    assert rep.stock_at_fill("wide", 0.95) == pytest.approx(truth)
    assert rep.saving_at_equal_fill(0.95, policy="near", against="wide") == pytest.approx(0.0)
    assert np.isnan(rep.stock_at_fill("near", 0.99))  # outside the measured curve
