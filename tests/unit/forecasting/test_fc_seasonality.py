"""The pooled seasonal index: panel total -> category -> series, each shrunk by its data."""

import itertools

import numpy as np

from forecasting.seasonality import (
    category_index,
    series_index,
    sku_season_spread,
    sku_seasons_repeat,
)

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


def sku_seasons(n, amplitude, rng, level, weeks=104):
    """``(n, weeks)`` Poisson units of SKUs whose own seasons stray from a flat category's:
    each one a cosine of ``amplitude`` peaking in a random week, the same every year."""
    t = np.arange(weeks)
    peak = rng.integers(0, 52, n)
    return rng.poisson(level * (1 + amplitude * np.cos(2 * np.pi * (t - peak[:, None]) / 52)))


def test_the_spread_of_sku_seasons_around_their_category_is_recovered_net_of_noise():
    # 400 SKUs of 3 units a week, each with a season of its own of amplitude 0.4: the squared
    # deviation from the (flat) category averages 0.4^2 / 2 = 0.08, pooling neighbour weeks
    # keeps 0.94 of it. One week-of-year ratio's counting noise (1/3 over 7 weeks, 0.048) is
    # as large: read off one year, the spread would be 1.6 times the truth.
    rng = np.random.default_rng(9)
    y = sku_seasons(400, 0.4, rng, level=3.0).astype(float)
    cat = np.zeros(400, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    tau2, se = sku_season_spread(y, cat, idx, start_week=0)
    assert 0.8 * 0.075 < tau2[0] < 1.2 * 0.075
    assert se[0] < 0.2 * tau2[0]
    flat = np.vstack([y, rng.poisson(3.0, (400, 104))]).astype(float)
    both = np.vstack([idx, np.ones((1, 52))])
    tau2, se = sku_season_spread(flat, np.repeat([0, 1], 400), both, start_week=0)
    assert tau2[1] < 2 * se[1] < 0.01 < 0.8 * 0.075 < tau2[0]  # the flat category has none
    assert sku_seasons_repeat(flat, np.repeat([0, 1], 400), both, start_week=0).tolist() == [
        True, False]


def test_skus_that_all_follow_their_category_take_its_index():
    # Every SKU sells its category's season and nothing else: their own ratios are noise,
    # which the fixed prior (five weeks of their sales) kept a good part of.
    rng = np.random.default_rng(10)
    t = np.arange(104)
    season = 1 + 0.5 * np.cos(2 * np.pi * (t - 48) / 52)
    y = rng.poisson(4.0 * season, (300, 104)).astype(float)
    cat = np.zeros(300, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    repeat = sku_seasons_repeat(y, cat, idx, start_week=0)
    assert not repeat[0]
    prior = np.repeat(idx, 300, axis=0)
    np.testing.assert_array_equal(series_index(y, prior, start_week=0, own=repeat[cat]), prior)
    fixed = series_index(y, prior, start_week=0)
    assert np.abs(fixed - prior).mean() > 0.05


def test_a_sku_season_that_repeats_is_kept_in_a_category_where_such_seasons_are_common():
    rng = np.random.default_rng(11)
    t = np.arange(104)
    peak = rng.integers(0, 52, 300)
    truth = 1 + 0.6 * np.cos(2 * np.pi * (t - peak[:, None]) / 52)
    y = rng.poisson(10.0 * truth).astype(float)
    cat = np.zeros(300, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    repeat = sku_seasons_repeat(y, cat, idx, start_week=0)
    assert repeat[0]
    own = series_index(y, np.repeat(idx, 300, axis=0), start_week=0, own=repeat[cat])
    r = [np.corrcoef(own[i], truth[i, :52])[0, 1] for i in range(300)]
    assert np.median(r) > 0.9  # each keeps its own season, not the flat category's


def test_a_launch_and_its_decay_over_a_year_are_not_read_as_sku_seasons():
    # Products launched in the first year and decaying with a half-life of 14 weeks, no season
    # anywhere: within one year a decay looks like a season, but it does not come back a year
    # later, so every product takes its category's index.
    rng = np.random.default_rng(12)
    n = 400
    launch = rng.integers(0, 40, n)
    age = np.arange(104)[None, :] - launch[:, None]
    y = rng.poisson(np.where(age >= 0, 30 * np.exp(-0.05 * np.maximum(age, 0)), 0.0))
    y = y.astype(float)
    cat = np.zeros(n, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    assert not sku_seasons_repeat(y, cat, idx, start_week=0)[0]


def test_a_category_where_no_sku_has_two_years_keeps_the_sku_level():
    rng = np.random.default_rng(13)
    y = rng.poisson(5.0, (50, T)).astype(float)
    y[:, :45] = 0  # every SKU under a year of sales: nothing to tell a repeat by
    cat = np.zeros(50, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    assert np.isnan(sku_season_spread(y, cat, idx, start_week=0)[0]).all()
    assert sku_seasons_repeat(y, cat, idx, start_week=0).all()


def test_skus_whose_weeks_never_vary_give_a_spread_of_zero_not_nan():
    y = np.full((20, 104), 5.0)
    cat = np.zeros(20, dtype=np.int64)
    idx = category_index(y.sum(axis=0, keepdims=True), start_week=0)
    tau2, _ = sku_season_spread(y, cat, idx, start_week=0)
    assert tau2[0] == 0.0
    assert not sku_seasons_repeat(y, cat, idx, start_week=0)[0]


def test_the_sku_season_test_is_the_same_bits_however_its_rows_are_split_over_workers():
    # The planner runs the per-SKU part on the demand step's workers, a block of rows each:
    # the spread, and so every forecast, must not depend on where the blocks were cut.
    rng = np.random.default_rng(14)
    t = np.arange(104)
    peak = rng.integers(0, 52, 500)
    y = rng.poisson(6.0 * (1 + 0.4 * np.cos(2 * np.pi * (t - peak[:, None]) / 52))).astype(float)
    y[::7, :60] = 0  # some SKUs under two years, a few under one
    cat = rng.integers(0, 3, 500)
    idx = category_index(np.stack([y[cat == c].sum(axis=0) for c in range(3)]), start_week=5)
    cuts = []

    def in_blocks(fn, arrays):
        edges = [0, 1, 37, 200, len(arrays[0])]
        cuts.append(len(arrays[0]))
        return np.concatenate([fn(*(a[i:j] for a in arrays))
                               for i, j in itertools.pairwise(edges)])

    whole = sku_season_spread(y, cat, idx, start_week=5)
    split = sku_season_spread(y, cat, idx, start_week=5, map_rows=in_blocks)
    assert cuts  # the split path ran
    for a, b in zip(whole, split, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isfinite(whole[0]).all()
