"""The one demand spread: rolling-origin window errors, shrunk, and the service it achieves."""

import numpy as np
import pytest

from forecasting import ItemParams, Planner, SalesPanel
from forecasting.classify import first_sale
from forecasting.models import croston, damped, holt, moving_average, sba, ses, tsb
from forecasting.models.baselines import moving_average_at
from forecasting.models.intermittent import croston_at, sba_at, tsb_at
from forecasting.models.smoothing import damped_at, holt_at, ses_at
from forecasting.replenishment import order_up_to
from forecasting.spread import level_variance, spread_at_level, window_errors, window_spread

TARGETS = (0.90, 0.95, 0.98)


@pytest.mark.parametrize("lead_time", [2, 6])
def test_iid_normal_demand_gets_its_cycle_service_within_one_point(lead_time):
    # 6000 independent series N(50, 10^2) a week; a third each at 90 %, 95 % and 98 %. With
    # nothing on hand the order-up-to level S covers the next L+R weeks without a stockout
    # exactly when their demand is <= S: the achieved cycle service. Two origins per series.
    rng = np.random.default_rng(7)
    n, k = 6000, lead_time + 1
    y = np.maximum(np.round(rng.normal(50, 10, (n, 104 + 2 * k))), 0)
    ids = np.array([f"S{i}|ONE" for i in range(n)])
    target = np.array(TARGETS)[np.arange(n) % 3]
    items = ItemParams.uniform(n, lead_time=lead_time, review_period=1)
    items = ItemParams(**{**items.__dict__, "service_level": target})
    covered = []
    for cut in (104, 104 + k):
        plan = Planner(SalesPanel(ids, y[:, :cut].astype(np.float32)), None, None,
                       items).fit().replenishment
        covered.append(y[:, cut : cut + k].sum(axis=1) <= plan.order_up_to)
    covered = np.concatenate(covered)
    for t in TARGETS:
        achieved = covered[np.tile(target, 2) == t].mean()
        assert achieved == pytest.approx(t, abs=0.01), (t, achieved)


def test_window_errors_compare_the_forecast_sum_with_the_actual_sum():
    # Actual 1..8; origins 2 and 4 (columns), windows of 3 weeks: sums 3+4+5 = 12, 5+6+7 = 18.
    actual = np.arange(1.0, 9.0)[None, :]
    err = window_errors(np.array([[10.0, 20.0]]), np.array([2, 4]), actual, np.array([3]))
    assert err.tolist() == [[-2.0, 2.0]]


def test_series_that_differ_only_by_noise_share_their_group_spread():
    # 400 series with the same true error variance 1 (scale 1) and 5 errors each: their own
    # MSEs scatter (chi-square), the shrunk spread should sit near 1 for all of them.
    rng = np.random.default_rng(3)
    mse = rng.chisquare(5, 400) / 5
    sigma = window_spread(mse, np.full(400, 5.0), np.ones(400))
    assert np.std(sigma**2) < 0.25 * np.std(mse)
    assert np.mean(sigma**2) == pytest.approx(1.0, abs=0.1)


def test_a_series_really_different_from_its_group_keeps_its_own_spread():
    # Half the series have error variance 1, half 9, each with 50 errors: no pooling across.
    mse = np.r_[np.full(200, 1.0), np.full(200, 9.0)]
    sigma = window_spread(mse, np.full(400, 50.0), np.ones(400))
    assert sigma[:200] == pytest.approx(1.0, rel=0.15)
    assert sigma[200:] == pytest.approx(3.0, rel=0.15)


@pytest.mark.parametrize(("kernel", "at"), [(ses, ses_at), (croston, croston_at), (sba, sba_at),
                                            (moving_average, moving_average_at),
                                            (holt, holt_at), (damped, damped_at), (tsb, tsb_at)])
def test_one_pass_rolling_refits_equal_a_separate_fit_at_every_origin(kernel, at):
    rng = np.random.default_rng(4)
    y = rng.poisson(rng.gamma(1.0, 2.0, (300, 1)), (300, 60)).astype(float)
    y[rng.random(y.shape) < 0.4] = 0.0  # intermittent weeks
    launch = rng.integers(0, 40, 300)
    y[np.arange(60)[None, :] < launch[:, None]] = 0.0  # products launched inside the panel
    start = first_sale(y)
    origins = list(range(30, 43))
    fits = at(y, start, 5, origins)
    for o, fit in zip(origins, fits, strict=True):
        rows = np.flatnonzero(start < o)
        alone = kernel(y[rows, :o], start[rows], 5)
        for name in ("forecast", "sigma", "alpha", "ok"):
            np.testing.assert_array_equal(getattr(fit, name)[rows], getattr(alone, name))


def test_a_slow_movers_return_aware_level_is_the_quantile_of_the_sales_that_stay_sold():
    # Poisson(10) sales over the window, each coming back inside it with probability 0.3: the
    # units that stay sold are Poisson(7) (thinning). The level must cover them at 90 %, and
    # the level one unit lower must not: the gross sales' wider quantile would over-order.
    gross, q, alpha = 10.0, 0.3, 0.90
    plan = order_up_to(demand_window=np.array([gross]), returns_window=np.array([gross * q]),
                       returns_past=np.array([0.0]), sigma_week=np.array([1.0]),
                       sigma_window=np.array([np.sqrt(gross)]), weeks=np.array([3]),
                       service_level=np.array([alpha]), intermittent=np.array([True]),
                       on_hand=0.0, reserved=0.0, on_order=0.0, case_pack=1, moq=0)
    rng = np.random.default_rng(5)
    sold = rng.poisson(gross, 400_000)
    kept = sold - rng.binomial(sold, q)
    level = plan["order_up_to"][0]
    assert np.mean(kept <= level) >= alpha
    assert np.mean(kept <= level - 1) < alpha



def _seasonal_errors(rng, n=600, origins=26):
    # Window forecasts that swing with a season from 4 to 40 units, and errors whose variance
    # is that of a negative binomial count, F + F^2 / 4, as counts with a noisy level have.
    level = 22 + 18 * np.cos(np.linspace(0, np.pi, origins))[None, :] * np.ones((n, 1))
    level = level * rng.lognormal(0, 0.3, (n, 1))
    err = rng.normal(0, np.sqrt(level + level**2 / 4))
    return level, err


def test_the_error_law_is_read_off_the_errors_at_every_level():
    level, err = _seasonal_errors(np.random.default_rng(3))
    law = level_variance(err, level, np.zeros(len(level), np.int64), 1)
    for f in (5.0, 15.0, 40.0):
        assert law[0, 0] * f + law[0, 1] * f**2 == pytest.approx(f + f**2 / 4, rel=0.15)


def _seasonal_law(seed: int):
    """Seasonal window errors of one category and the variance law read off them."""
    level, err = _seasonal_errors(np.random.default_rng(seed))
    group = np.zeros(len(level), np.int64)
    return level, err, group, level_variance(err, level, group, 1)


def test_a_spread_measured_in_the_peak_is_scaled_to_the_trough_it_is_used_in():
    # Errors made while the season swung from 40 down to 4 units a window; the window now is
    # forecast at 6 (the trough): its spread is the trough's, not the average of the season's.
    level, err, group, law = _seasonal_law(4)
    now = np.full(len(level), 6.0)
    sigma = spread_at_level(err, level, np.full(len(level), 4), now, law[group])
    assert np.mean(sigma**2) == pytest.approx(6 + 36 / 4, rel=0.15)
    assert np.mean(err**2) > 5 * np.mean(sigma**2)  # the unscaled errors: the peak's


def test_one_missed_turn_does_not_set_a_series_spread_for_good():
    # A trend model that forecast 0.3 units for a window that sold 15 (a season's ramp out of
    # its trough) made one error of 50 times the law's spread: it counts, capped.
    level, err, group, law = _seasonal_law(5)
    now = np.full(len(level), 10.0)
    calm = spread_at_level(err, level, np.full(len(level), 4), now, law[group])
    level[0, 3], err[0, 3] = 0.3, -15.0
    missed = spread_at_level(err, level, np.full(len(level), 4), now, law[group])
    assert calm[0] < missed[0] < 1.6 * calm[0]


def test_the_window_spread_is_the_error_it_will_make_on_gamma_poisson_demand():
    # 3000 series of gamma-Poisson demand (a level per series, weekly multiplier of shape 4,
    # so a window of k weeks has variance k (m + m^2 / 4)): the squared spread the planner
    # gives the next window must match that variance plus its forecast's squared error of the
    # mean, summed over the series (what a safety stock of z spreads protects against).
    rng = np.random.default_rng(2)
    n, shape, lead_time = 3000, 4.0, 2
    k = lead_time + 1
    mean = np.exp(rng.normal(1.5, 0.5, n))
    y = rng.poisson(mean[:, None] * rng.gamma(shape, 1 / shape, (n, 104))).astype(np.float32)
    items = ItemParams.uniform(n, lead_time=lead_time, review_period=1)
    plan = Planner(SalesPanel(np.array([f"S{i}|ONE" for i in range(n)]), y), None, None,
                   items).fit().replenishment
    error = k * (mean + mean**2 / shape) + (plan.gross_demand - k * mean) ** 2
    assert np.sum(plan.blind_sigma_window**2) / np.sum(error) == pytest.approx(1.0, abs=0.15)
