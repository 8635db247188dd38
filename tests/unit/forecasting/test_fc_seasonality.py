"""The pooled seasonal index: panel total -> category -> series, each shrunk by its data."""

import numpy as np

from forecasting.seasonality import category_index, series_index

T = 93  # under two seasons, as the series the index is for


def seasonal_means(n, peak, rng, level=20.0):
    """``(n, T)`` weekly means peaking ``peak`` x the trough around week 48 of the year."""
    t = np.arange(T)
    shape = 1 + (peak - 1) * np.exp(-0.5 * (((t % 52) - 48 + 26) % 52 - 26) ** 2 / 9)
    return np.exp(rng.normal(np.log(level), 0.3, n))[:, None] * shape[None, :]


def test_a_series_with_a_strong_season_of_its_own_keeps_it_in_a_flat_category():
    rng = np.random.default_rng(3)
    y = rng.poisson(np.vstack([np.full((200, T), 20.0), seasonal_means(1, 6.0, rng)]))
    prior = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    assert np.abs(prior - 1).max() < 0.1  # one seasonal product does not make its category seasonal
    own = series_index(y[-1:], prior, start_week=0)[0]
    assert own[48] / own[20] > 3  # its Christmas stays (the truth is 6x, shrunk and smoothed)


def test_a_series_with_little_data_follows_its_category():
    rng = np.random.default_rng(4)
    y = rng.poisson(seasonal_means(300, 3.0, rng)).astype(float)
    prior = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    assert 2.0 < prior[0, 48] / prior[0, 20] < 3.2
    slow = rng.poisson(seasonal_means(1, 3.0, rng, level=0.2))  # a handful of units in a year
    own = series_index(slow, prior, start_week=0)[0]
    assert np.corrcoef(own, prior[0])[0, 1] > 0.9


def test_a_launch_and_its_decay_are_not_read_as_a_season():
    # Products launched every week, each rising and decaying within months, no season at all:
    # the category's index stays flat, and a product younger than a year takes it as it is.
    rng = np.random.default_rng(5)
    n = 600
    launch = rng.integers(0, T, n)
    age = np.arange(T)[None, :] - launch[:, None]
    mean = np.where(age >= 0, 30 * np.exp(-0.1 * np.maximum(age, 0)), 0.0)
    y = rng.poisson(mean).astype(float)
    cat = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    assert np.abs(cat - 1).max() < 0.25
    young = np.flatnonzero((launch > T - 50) & (launch < T - 20))
    own = series_index(y[young], np.repeat(cat, len(young), axis=0), start_week=0)
    np.testing.assert_array_equal(own, np.repeat(cat, len(young), axis=0))


def test_a_category_whose_own_index_has_no_data_behind_it_stays_near_the_global_one():
    rng = np.random.default_rng(6)
    big = rng.poisson(seasonal_means(400, 3.0, rng)).sum(axis=0)
    tiny = np.zeros(T)
    tiny[[10, 60]] = 1  # two units in two years: no evidence of any season
    idx = category_index(np.vstack([big, tiny]), start_week=0)
    assert np.corrcoef(idx[1], idx[0])[0, 1] > 0.9
    assert idx[1, 48] / idx[1, 20] > 1.5


def test_a_category_of_many_products_keeps_its_own_season_against_the_panels():
    # Two categories peaking half a year apart: the panel's total is nearly flat, and a
    # category total of 300 products is nearly noise-free, so its own season is not pulled
    # toward the panel's (a fixed prior of five weeks of its own sales made 9x into 3.4x).
    rng = np.random.default_rng(7)
    t = np.arange(T)
    winter = 1 + 0.8 * np.cos(2 * np.pi * (t - 48) / 52)
    summer = 1 + 0.8 * np.cos(2 * np.pi * (t - 22) / 52)
    y = np.vstack([rng.poisson(5.0 * winter, (300, T)).sum(axis=0),
                   rng.poisson(5.0 * summer, (300, T)).sum(axis=0)])
    idx = category_index(y, start_week=0)
    true_ratio = (1 + 0.8) / (1 - 0.8)  # peak / trough of the truth, 9x
    assert idx[0, 48] / idx[0, 22] > 0.75 * true_ratio  # pooling neighbour weeks costs a little
    assert idx[1, 22] / idx[1, 48] > 0.75 * true_ratio
    fixed = category_index(y, start_week=0, prior_weeks=5.0)
    assert fixed[0, 48] / fixed[0, 22] < idx[0, 48] / idx[0, 22]


def test_a_category_whose_weeks_jump_with_single_orders_leans_on_the_panels_season():
    # A wholesale category: a few big orders a year on a small flat base. Its weeks jump with
    # single orders, not with a season, so its index stays near the panel's (flat) one.
    rng = np.random.default_rng(8)
    base = rng.poisson(20.0, (400, T)).sum(axis=0).astype(float)
    lumpy = rng.poisson(2.0, T).astype(float)
    lumpy[rng.choice(T, 6, replace=False)] += 400  # six bulk orders in under two years
    idx = category_index(np.vstack([base, lumpy]), start_week=0)
    assert np.abs(idx[1] - 1).max() < 0.3
    own = category_index(np.vstack([base, lumpy]), start_week=0, prior_weeks=0.1)
    assert np.abs(own[1] - 1).max() > np.abs(idx[1] - 1).max()
