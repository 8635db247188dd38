"""Backtests: accuracy metrics, and the inventory replay return-aware against return-blind."""

import numpy as np
import pytest

from forecasting.backtest import errors, replay, rolling_accuracy
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


def test_return_aware_replay_holds_the_target_fill_rate_with_clearly_less_stock(panel):
    rep = replay(panel.sales, panel.returns, panel.items, weeks=13)
    target = rep.aware["target_service_level"]
    assert rep.aware["fill_rate"] >= target
    assert rep.aware["avg_on_hand"] < 0.93 * rep.blind["avg_on_hand"]
    assert rep.aware["units_ordered"] <= rep.blind["units_ordered"]
    recs = rep.to_records()
    assert [r["policy"] for r in recs] == ["return_aware", "return_blind"]
    for r in recs:
        assert r["lost_sales"] == pytest.approx(r["demand"] * (1 - r["fill_rate"]))


def test_the_library_beats_seasonal_naive_and_reports_every_method(panel):
    acc = rolling_accuracy(panel.sales, panel.returns, panel.items, horizon=13, n_origins=1)
    by = acc.by_method()
    assert {"auto", "seasonal_naive", "ses", "croston", "sba", "tsb", "moving_average"} <= set(by)
    assert by["auto"]["wape"] < by["seasonal_naive"]["wape"]
    assert by["auto"]["mase_vs_snaive"] < 1.0
    assert by["seasonal_naive"]["mase_vs_snaive"] == pytest.approx(1.0)
    # two seasons are needed for seasonal ETS: on 91 weeks it falls back for every series
    assert by["ets_seasonal"]["fallback_series"] == len(panel.sales.ids)
