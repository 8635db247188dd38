"""Size curves from kept units, shrinkage toward the category, new sizes, reconciliation."""

import numpy as np
import pytest

from forecasting.sizes import category_curve, gross_shares, kept_shares, prior_shares, reconcile

SKU = np.array([0, 0, 0])


def test_a_sku_with_no_history_of_its_own_uses_the_prior_curve():
    prior = np.array([0.2, 0.5, 0.3])
    share = kept_shares(np.zeros(3), prior, SKU, 1, strength=30)
    np.testing.assert_allclose(share, prior)


def test_shrinkage_moves_the_sku_curve_toward_the_prior_by_the_pseudo_count():
    # kept 10/20/10 (K = 40) with prior 0.2/0.5/0.3 and m = 40:
    # S: (10 + 8) / 80 = 0.225, M: (20 + 20) / 80 = 0.5, L: (10 + 12) / 80 = 0.275
    share = kept_shares(np.array([10.0, 20.0, 10.0]), np.array([0.2, 0.5, 0.3]), SKU, 1,
                        strength=40)
    np.testing.assert_allclose(share, [0.225, 0.5, 0.275])


def test_a_large_history_keeps_its_own_curve():
    share = kept_shares(np.array([5000.0, 3000.0, 2000.0]), np.array([0.2, 0.5, 0.3]), SKU, 1)
    np.testing.assert_allclose(share, [0.5, 0.3, 0.2], atol=0.002)


def test_a_new_size_gets_its_category_share_and_the_others_share_the_rest():
    kept = np.array([600.0, 400.0, 0.0])
    prior = np.array([0.3, 0.5, 0.2])
    share = kept_shares(kept, prior, SKU, 1, strength=0.0, new=np.array([False, False, True]))
    np.testing.assert_allclose(share, [0.48, 0.32, 0.2])


def test_gross_shares_come_from_kept_shares_and_return_rates():
    # Equal kept shares; size 0 is returned half the time, size 1 never:
    # gross 0.5 / 0.5 = 1.0 against 0.5 / 1.0 = 0.5 -> 2/3 and 1/3 of gross sales.
    g = gross_shares(np.array([0.5, 0.5]), np.array([0.5, 0.0]), np.array([0, 0]), 1)
    np.testing.assert_allclose(g, [2 / 3, 1 / 3])


def test_bracketing_does_not_inflate_the_curve_of_the_size_sent_back():
    # Customers buy S and M, keep M, return S: gross 50/50, kept 0/50 -> S gets the prior only.
    kept = np.array([0.0, 50.0])
    share = kept_shares(kept, np.array([0.5, 0.5]), np.array([0, 0]), 1, strength=10)
    assert share[0] < 0.1


def test_category_curve_and_prior_are_renormalised_to_the_sizes_a_sku_carries():
    kept = np.array([10.0, 30.0, 60.0, 5.0, 15.0])
    cells = np.array([0, 1, 2, 0, 1])  # S, M, L in one category; SKU 1 has no L
    curve = category_curve(kept, cells, 3, np.array([0, 0, 0]), 1)
    np.testing.assert_allclose(curve, [15 / 120, 45 / 120, 60 / 120])
    prior = prior_shares(curve[cells], np.array([0, 0, 0, 1, 1]), 2)
    np.testing.assert_allclose(prior[3:], [0.25, 0.75])
    np.testing.assert_allclose(prior[:3].sum(), 1.0)


def test_reconciled_sizes_add_up_to_the_sku_every_week():
    sizes = np.array([[1.0, 2.0], [3.0, 0.0], [4.0, 4.0]])
    sku = np.array([0, 0, 1])
    target = np.array([[8.0, 4.0], [2.0, 2.0]])
    out = reconcile(sizes, target, sku, 2)
    np.testing.assert_allclose(out[:2].sum(axis=0), target[0])
    np.testing.assert_allclose(out[2], target[1])
    assert out[0, 0] == pytest.approx(2.0)
