"""The vectorised kernels: they agree with statsmodels and with hand calculations."""

import warnings

import numpy as np
import pytest

from forecasting.classify import ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND, SMOOTH, adi_cv2, classify
from forecasting.models import METHODS, croston, moving_average, sba, seasonal_naive, ses
from forecasting.models.intermittent import _croston, adida
from forecasting.models.smoothing import ses_path
from forecasting.models.theta import theta


def test_simple_exponential_smoothing_matches_statsmodels_with_the_same_alpha():
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    rng = np.random.default_rng(3)
    y = rng.poisson(5, size=(3, 60)).astype(float)
    level, _ = ses_path(y, np.zeros(3, int), [0.3])
    for i in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SimpleExpSmoothing(y[i], initialization_method="known",
                                     initial_level=y[i, 0]).fit(smoothing_level=0.3,
                                                                 optimized=False)
        assert level[i, 0] == pytest.approx(fit.forecast(1)[0])


def test_croston_and_sba_follow_the_hand_recursion():
    # Demands 4 at t=0, 0, 0, 2 at t=3: with alpha = 0.1 the size becomes 4 + 0.1 (2 - 4) = 3.8
    # and the interval 1 + 0.1 (3 - 1) = 1.2, so Croston = 3.8 / 1.2 and SBA = 0.95 of that.
    y = np.array([[4.0, 0, 0, 2.0]])
    fc = _croston(y, np.array([0]), 2, [0.1], debias=False).forecast
    fs = _croston(y, np.array([0]), 2, [0.1], debias=True).forecast
    assert fc[0, 0] == pytest.approx(3.8 / 1.2)
    assert fs[0, 0] == pytest.approx(0.95 * 3.8 / 1.2)
    assert croston(y, np.array([0]), 3).forecast.shape == (1, 3)
    assert sba(y, np.array([0]), 3).ok.all()


def test_seasonal_naive_repeats_the_same_week_last_year():
    y = np.tile(np.arange(52, dtype=float), 2)[None, :]
    fit = seasonal_naive(y, np.array([0]), 5)
    assert fit.forecast[0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_seasonal_naive_needs_a_full_season():
    fit = seasonal_naive(np.ones((1, 40)), np.array([0]), 4)
    assert not fit.ok[0]


def test_moving_average_only_averages_a_launched_products_own_life():
    y = np.r_[np.zeros(30), np.full(3, 6.0)][None, :]
    fit = moving_average(y, np.array([30]), 2)
    assert fit.forecast[0, 0] == pytest.approx(6.0)


@pytest.mark.parametrize("name", list(METHODS))
def test_no_method_forecasts_negative_demand(name):
    # A collapsing trend would extrapolate below zero; forecasts are clipped at zero.
    t = np.arange(110, dtype=float)
    y = np.stack([np.maximum(200 - 4 * t, 0), np.maximum(50 - 0.6 * t, 0) * (t % 3 == 0),
                  np.r_[np.zeros(100), np.full(10, 9.0)]])
    fit = METHODS[name](y, np.array([0, 0, 100]), 26)
    assert (fit.forecast >= 0).all()


def test_a_row_that_overflows_is_marked_failed_not_raised():
    y = np.array([[1.0, 2.0, 1e300, 1e308, 1e308, 3.0] * 3, [1.0, 2.0, 3.0, 2.0, 1.0, 2.0] * 3])
    fit = METHODS["holt"](y, np.array([0, 0]), 4)
    assert not fit.ok[0] and fit.ok[1]
    assert np.isfinite(fit.forecast).all()


def test_ses_grid_prefers_a_fast_alpha_after_a_level_shift():
    y = np.r_[np.full(40, 2.0), np.full(40, 20.0)][None, :]
    fit = ses(y, np.array([0]), 1)
    assert fit.alpha[0] >= 0.5 and fit.forecast[0, 0] == pytest.approx(20.0, abs=0.01)


def test_classification_uses_the_adi_and_cv2_cut_offs():
    y = np.array([
        [5, 5, 6, 5, 5, 6, 5, 5],        # every week, steady -> smooth
        [1, 20, 2, 30, 1, 25, 2, 1],     # every week, erratic sizes -> erratic
        [3, 0, 0, 3, 0, 0, 3, 0],        # ADI 8/3 = 2.67, same size -> intermittent
        [1, 0, 0, 40, 0, 0, 2, 0],       # ADI 2.67, varied sizes -> lumpy
        [0, 0, 0, 0, 0, 0, 0, 0],
    ], dtype=float)
    assert classify(y).tolist() == [SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND]
    adi, _ = adi_cv2(y[2:3])
    assert adi[0] == pytest.approx(8 / 3)


def test_leading_zeros_of_a_late_launch_do_not_make_a_series_intermittent():
    y = np.r_[np.zeros(50), np.full(20, 4.0)][None, :]
    assert classify(y)[0] == SMOOTH


def test_theta_drifts_by_half_the_least_squares_slope_from_the_ses_level():
    # Standard Theta (Hyndman & Billah 2003): SES plus drift b/2 per week, b the OLS slope.
    rng = np.random.default_rng(4)
    t = np.arange(80)
    y = np.vstack([100 + 2.0 * t + rng.normal(0, 3, 80), 100 - 0.5 * t + rng.normal(0, 3, 80)])
    start = np.zeros(2, dtype=int)
    fit = theta(y, start, 8)
    slope = np.polyfit(t, y.T, 1)[0]
    np.testing.assert_allclose(np.diff(fit.forecast, axis=1), np.repeat(slope[:, None] / 2, 7, 1))
    level, _sse = ses_path(y, start, [fit.alpha[0]])
    a = fit.alpha[0]
    first = level[0, 0] + slope[0] / 2 * (1 / a - (1 - a) ** 80 / a)
    assert fit.forecast[0, 0] == pytest.approx(first)


def test_theta_follows_a_launched_products_own_weeks_only():
    y = np.zeros((1, 60))
    y[0, 30:] = 5 + np.arange(30)  # launched at week 30, rising 1 a week
    fit = theta(y, np.array([30]), 4)
    np.testing.assert_allclose(np.diff(fit.forecast[0]), 0.5)


def test_adida_smooths_buckets_of_the_mean_gap_and_spreads_them_over_their_weeks():
    # A sale of 6 every third week: the mean gap is 3, every 3-week bucket holds 6, so the
    # forecast is 2 a week whatever the alpha; Croston says the same, a moving average of 4
    # weeks would swing between 1.5 and 3.
    y = np.tile([0.0, 0.0, 6.0], 20)[None, :]
    fit = adida(y, np.array([0]), 5)
    assert fit.ok.all()
    assert fit.forecast[0] == pytest.approx(np.full(5, 2.0))


def test_adida_forecasts_a_lumpy_series_rate_and_follows_a_drop_in_it():
    rng = np.random.default_rng(4)
    sold = rng.random((200, 104)) < 0.25
    units = rng.poisson(8, (200, 104)) + 1
    y = np.where(sold, units, 0).astype(float)
    rate = 0.25 * 9
    assert adida(y, np.zeros(200, int), 13).forecast.mean() == pytest.approx(rate, rel=0.05)
    y[:, 52:] *= 0.25  # the product sells a quarter as much for the last year
    fc = adida(y, np.zeros(200, int), 13).forecast
    assert abs(fc.mean() - rate / 4) < abs(fc.mean() - rate) / 3
