"""The pooled seasonal index: series -> category -> all series, each shrunk by its data."""

import numpy as np

from forecasting.seasonality import category_index, season_sums, series_index

T = 93  # under two seasons, as the series the index is for


def seasonal_means(n, peak, rng, level=20.0):
    """``(n, T)`` weekly means peaking ``peak`` x the trough around week 48 of the year."""
    t = np.arange(T)
    shape = 1 + (peak - 1) * np.exp(-0.5 * (((t % 52) - 48 + 26) % 52 - 26) ** 2 / 9)
    return np.exp(rng.normal(np.log(level), 0.3, n))[:, None] * shape[None, :]


def test_a_series_with_a_strong_season_of_its_own_keeps_it_in_a_flat_category():
    rng = np.random.default_rng(3)
    y = rng.poisson(np.vstack([np.full((200, T), 20.0), seasonal_means(1, 6.0, rng)]))
    cat = np.zeros(201, int)
    prior = category_index(*season_sums(y, start_week=0), cat, 1)
    assert np.abs(prior - 1).max() < 0.1  # one seasonal product does not make its category seasonal
    own = series_index(y[-1:], prior[cat[-1:]], start_week=0)[0]
    assert own[48] / own[20] > 3  # its Christmas stays (the truth is 6x, shrunk and smoothed)


def test_a_series_with_little_data_follows_its_category():
    rng = np.random.default_rng(4)
    y = rng.poisson(seasonal_means(300, 3.0, rng)).astype(float)
    cat = np.zeros(300, int)
    prior = category_index(*season_sums(y, start_week=0), cat, 1)
    assert 2.0 < prior[0, 48] / prior[0, 20] < 3.2
    slow = rng.poisson(seasonal_means(1, 3.0, rng, level=0.2))  # a handful of units in a year
    own = series_index(slow, prior, start_week=0)[0]
    assert np.corrcoef(own, prior[0])[0, 1] > 0.9


def test_weeks_before_a_launch_are_not_read_as_weeks_without_demand():
    rng = np.random.default_rng(5)
    y = rng.poisson(np.full((300, T), 10.0)).astype(float)
    y[:, :40] = 0  # flat demand, launched at week 40
    cat = np.zeros(300, int)
    idx = category_index(*season_sums(y, start_week=0), cat, 1)
    assert np.abs(idx - 1).max() < 0.1


def test_a_category_whose_own_index_has_no_data_behind_it_stays_near_the_global_one():
    rng = np.random.default_rng(6)
    big = rng.poisson(seasonal_means(400, 3.0, rng))
    tiny = np.zeros((1, T))
    tiny[0, [10, 60]] = 1  # two units in two years: no evidence of any season
    y = np.vstack([big, tiny])
    cat = np.r_[np.zeros(400, int), 1]
    idx = category_index(*season_sums(y, start_week=0), cat, 2)
    assert np.corrcoef(idx[1], idx[0])[0, 1] > 0.9
    assert idx[1, 48] / idx[1, 20] > 1.5
