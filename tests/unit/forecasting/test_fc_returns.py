"""Return estimates: recovery of the synthetic truth, shrinkage of thin data, future arrivals."""

from dataclasses import replace

import numpy as np
import pytest

from forecasting import ReturnsData, SalesPanel, run_pipeline
from forecasting.replenishment import order_up_to
from forecasting.returns import expected_arrivals, known_cohorts, open_cohorts, quantile_week
from forecasting.synthetic import make_apparel_panel


@pytest.fixture(scope="module")
def fitted():
    panel = make_apparel_panel(4000, seed=11)
    result = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items)
    return panel, result


def test_return_rate_is_recovered_within_two_points_where_a_size_sold_200_units(fitted):
    panel, result = fitted
    big = panel.sales.y.sum(axis=1) >= 200
    assert big.sum() > 300
    err = np.abs(result.returns.rate - panel.truth["return_rate"])[big]
    assert err.mean() < 0.02


def test_shrinkage_beats_the_raw_rate_on_thin_sizes(fitted):
    panel, result = fitted
    sold = panel.sales.y.sum(axis=1)
    thin = (sold > 0) & (sold < 30)
    raw = result.returns.units_returned / np.maximum(sold, 1)
    truth = panel.truth["return_rate"]
    assert np.abs(result.returns.rate - truth)[thin].mean() < np.abs(raw - truth)[thin].mean()


def test_lag_median_in_days_is_read_off_the_interpolated_weekly_law():
    # Lags in days, log-normal with median 11, sold on any weekday: the week numbers see 1 or 2.
    rng = np.random.default_rng(3)
    n = 20_000
    sale_day = rng.integers(0, 7 * 30, n)
    lag_days = np.exp(rng.normal(np.log(11), 0.6, n))
    sale_week, receipt_week = sale_day // 7, (sale_day + lag_days).astype(int) // 7
    sales = SalesPanel(np.array(["T|M"]), np.full((1, 60), 2000.0))
    rets = ReturnsData.from_records(sales, ["T|M"] * n, sale_week, receipt_week,
                                    ["other"] * n, [None] * n)
    est = run_pipeline(sales, rets, return_window_weeks=12).returns
    assert abs(est.lag_median_days[0] - 11) <= 1.0
    assert abs(7 * est.lag_median[0] - 11) > 2  # whole weeks could not say this


def test_lag_median_is_recovered_within_one_week(fitted):
    panel, result = fitted
    assert np.abs(result.returns.lag_median - panel.truth["lag_median"]).max() <= 1


def test_restockable_share_is_recovered(fitted):
    panel, result = fitted
    big = panel.sales.y.sum(axis=1) >= 200
    err = np.abs(result.returns.restockable_share - panel.truth["restockable"])[big]
    assert err.mean() < 0.05


def test_small_sizes_come_back_as_too_small_and_large_as_too_large(fitted):
    panel, result = fitted
    x = panel.truth["size_position"]
    r = result.returns
    assert r.too_small[x == 0].mean() > r.too_small[x == 1].mean() + 0.2
    assert r.too_large[x == 1].mean() > r.too_large[x == 0].mean() + 0.2
    np.testing.assert_allclose(r.too_small + r.too_large + r.other_reason, 1.0)


def one_sku(sold_per_week, returned, sizes=("S", "M"), weeks=60):
    ids = np.array([f"A|{s}" for s in sizes])
    y = np.zeros((len(ids), weeks), np.float32)
    y[:, :] = np.asarray(sold_per_week, float)[:, None]
    series = np.repeat(np.arange(len(ids)), returned)
    m = len(series)
    week = np.full(m, 10)
    rets = ReturnsData(series, week, week + 1, np.zeros(m, np.int8), np.zeros(m, np.int8))
    return SalesPanel(ids, y, 0), rets


def test_a_size_with_three_sales_gets_neither_zero_nor_one_hundred_percent():
    # Size M sold 3 units (all returned), size S sold 600 units of which 120 came back.
    panel, rets = one_sku([0, 0], [120, 3], weeks=60)
    panel.y[0, :] = 10
    panel.y[1, :] = 0
    panel.y[1, 5:8] = 1
    rate = run_pipeline(panel, rets).returns.rate
    assert rate[0] == pytest.approx(0.2, abs=0.01)
    assert 0.2 < rate[1] < 0.9


def test_expected_arrivals_match_the_hand_calculation():
    # One series, return rate 0.5, restockable 0.8, lag law P(1) = 0.5, P(2) = 0.5 (window 2).
    # Past: 10 sold last week (age 0), none back yet -> week 1: 10 * 0.5 * 0.5 / (1 - 0) = 2.5,
    #       week 2: 2.5. 4 sold the week before (age 1), 1 back already: F(1) = 0.5, so the 3
    #       open units return in week 1 with 0.5 * 0.5 / (1 - 0.25) = 1/3 each -> 1.0.
    # Forecast: 6 a week -> week 1: 6 * 0.5 * P(0) = 0; week 2: 6 * 0.5 * P(1) = 1.5.
    pmf = np.array([[0.0, 0.5, 0.5]])
    cohorts = open_cohorts(recent_sales=np.array([[10.0, 4.0]]),
                           recent_returned=np.array([[0.0, 1.0]]), rate=np.array([0.5]),
                           pmf=pmf, restockable=np.array([0.8]))
    past, fut = expected_arrivals(cohorts, forecast=np.array([[6.0, 6.0, 6.0]]))
    np.testing.assert_allclose(past[0], 0.8 * np.array([2.5 + 1.0, 2.5, 0.0]))
    np.testing.assert_allclose(fut[0], 0.8 * np.array([0.0, 1.5, 3.0]))


def test_the_return_window_truncates_the_lag_law():
    panel = make_apparel_panel(300, seed=2, window=4)
    res = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items,
                       return_window_weeks=4)
    assert res.returns.lag_pmf.shape[1] == 5
    np.testing.assert_allclose(res.returns.lag_pmf.sum(axis=1), 1.0)
    assert (quantile_week(res.returns.lag_pmf) <= 4).all()


def test_without_returns_the_rates_are_zero_and_orders_equal_the_blind_ones():
    panel = make_apparel_panel(200, seed=4)
    stock = replace(panel.stock, returns_in_transit=np.zeros(len(panel.sales.ids)))
    res = run_pipeline(panel.sales, None, stock, panel.items)
    assert (res.returns.rate == 0).all()
    np.testing.assert_allclose(res.replenishment.order_qty, res.replenishment.blind_order_qty)


def test_returns_in_transit_count_as_expected_restockable_returns():
    panel = make_apparel_panel(200, seed=4)
    n = len(panel.sales.ids)
    stock = replace(panel.stock, returns_in_transit=np.full(n, 50.0))
    res = run_pipeline(panel.sales, None, stock, panel.items)
    share = res.returns.restockable_share
    assert (res.replenishment.expected_returns >= 50 * share - 1e-9).all()


def test_units_awaiting_grading_add_to_what_past_sales_still_send_back():
    # They are received, so past sales no longer expect them; nor are they on the shelf yet.
    panel = make_apparel_panel(200, seed=4)
    n = len(panel.sales.ids)
    before = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items)
    waiting = replace(panel.stock, returns_awaiting_grading=np.full(n, 6.0))
    after = run_pipeline(panel.sales, panel.returns, waiting, panel.items)
    share = after.returns.restockable_share
    np.testing.assert_allclose(after.replenishment.expected_returns,
                               before.replenishment.expected_returns + 6 * share, rtol=1e-6)


def test_units_still_out_come_back_with_the_conditional_probability_and_binomial_variance():
    # Return rate 0.4, lag law P(lag = 0..4) = 0, .5, .3, .2, 0; restockable share 0.5.
    # 10 units sold 2 weeks ago, 1 already back: 9 still out. By age 2, F = 0.8 of the lag has
    # passed, so P(back within the next 3 weeks | not back yet) = 0.4 * (1 - 0.8) / (1 - 0.4 *
    # 0.8) = 0.1176, restockable 0.0588 each: mean 9 * 0.0588 = 0.529, binomial variance
    # 9 * 0.0588 * 0.9412 = 0.498 (a Poisson guess would say 0.529).
    recent = np.array([[0.0, 0.0, 10.0, 0.0]])
    back = np.array([[0.0, 0.0, 1.0, 0.0]])
    pmf = np.array([[0.0, 0.5, 0.3, 0.2, 0.0]])
    cohorts = open_cohorts(recent_sales=recent, recent_returned=back, rate=np.array([0.4]),
                           pmf=pmf, restockable=np.array([0.5]))
    out, mean, var = known_cohorts(cohorts, weeks=np.array([3]))
    assert out.tolist() == [[0.0, 0.0, 9.0, 0.0]]
    p = 0.4 * 0.2 / (1 - 0.4 * 0.8) * 0.5
    assert mean[0] == pytest.approx(9 * p)
    assert var[0] == pytest.approx(9 * p * (1 - p))
    assert var[0] < mean[0]


def test_the_known_pipeline_enters_the_position_and_its_variance_the_safety_stock():
    # Demand 300 over the window (sigma 20 * sqrt 3), 25 expected back from past sales with
    # binomial variance 16: sigma = sqrt(1200 + 16) and S = 300 - 25 + 1.6449 * sigma.
    out = order_up_to(demand_window=np.array([300.0]), returns_window=np.array([25.0]),
                      returns_past=np.array([25.0]), returns_past_var=np.array([16.0]),
                      sigma_week=np.array([20.0]), weeks=np.array([3]),
                      service_level=np.array([0.95]), intermittent=np.array([False]),
                      on_hand=np.array([0.0]), reserved=np.array([0.0]),
                      on_order=np.array([0.0]), case_pack=np.array([1]), moq=np.array([0]))
    assert out["sigma_window"][0] == pytest.approx(np.sqrt(1216.0))
    assert out["order_up_to"][0] == pytest.approx(275 + 1.6449 * np.sqrt(1216.0), abs=0.01)
