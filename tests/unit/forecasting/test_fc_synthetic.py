"""The synthetic generator is deterministic by seed and carries the truth the tests rely on."""

import numpy as np

from forecasting.synthetic import make_apparel_panel


def test_the_same_seed_gives_the_same_panel_and_another_seed_does_not():
    a, b, c = (make_apparel_panel(500, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.sales.y, b.sales.y)
    np.testing.assert_array_equal(a.returns.receipt_week, b.returns.receipt_week)
    assert not np.array_equal(a.sales.y, c.sales.y)


def test_the_panel_looks_like_apparel():
    p = make_apparel_panel(3000, seed=1)
    assert len(p.sales.ids) == 3000
    zero_share = (p.sales.y == 0).mean()
    assert 0.3 < zero_share < 0.9  # a long intermittent tail
    t = p.truth
    ends = (t["size_position"] == 0) | (t["size_position"] == 1)
    assert t["return_rate"][ends].mean() > t["return_rate"][~ends].mean()  # fit problems at ends
    lag = p.returns.receipt_week - p.returns.sale_week
    assert lag.min() >= 0 and lag.max() <= p.window
    assert set(np.unique(p.returns.grade)) <= {0, 1, 2, 3, 4}
