"""The figures beside a suggestion and the words for an order that returns made larger."""

from __future__ import annotations

from returns_inventory.domain.suggestion_figures import decision_figures, why_more_than_blind

BASE = {"protection_weeks": 4, "gross_demand": 40.0, "expected_returns": 6.0,
        "inventory_position": 17.0, "on_hand": 15.0, "on_order": 3.0}


def test_weeks_of_cover_divide_the_position_by_demand_net_of_returns():
    figures = decision_figures(BASE, 30, 21)
    assert figures.cover_before == 17 / 8.5
    assert figures.cover_after == 47 / 8.5
    assert figures.lead_time_weeks == 3
    assert (figures.on_hand, figures.on_order, figures.forecast, figures.returns_back) == (
        15, 3, 40, 6)


def test_no_net_demand_has_no_cover_figure_rather_than_a_division_by_zero():
    figures = decision_figures({**BASE, "expected_returns": 40.0}, 12, None)
    assert figures.cover_before is None and figures.cover_after is None
    assert figures.lead_time_weeks is None


def test_a_run_without_the_terms_shows_nothing_rather_than_zeros():
    figures = decision_figures({}, 12, 14)
    assert figures.on_hand is None and figures.cover_before is None


def test_an_order_not_above_the_blind_one_needs_no_explanation():
    assert why_more_than_blind(BASE, 30, 36) is None
    assert why_more_than_blind(BASE, 30, 30) is None


def test_a_safety_stock_raised_by_uncertain_returns_is_named_with_its_figures():
    terms = {**BASE, "safety_stock": 14.0, "blind_safety_stock": 5.0, "raw_order": 31.0,
             "blind_order_up_to": 45.0}
    words = why_more_than_blind(terms, 32, 28)
    assert words.startswith("Ordering 4 more than if returns were ignored")
    assert "raises the safety stock from 5 units to 14 units" in words


def test_rounding_to_case_packs_is_named_when_it_widens_the_gap():
    # 28.5 needed against 28 ignoring returns: whole cases of 6 make it 30 against 28.
    terms = {**BASE, "safety_stock": 5.0, "blind_safety_stock": 5.0, "raw_order": 28.5,
             "blind_order_up_to": 45.0}
    words = why_more_than_blind(terms, 30, 28)
    assert "rounding to whole case packs or the minimum order turns 28.5 units needed into " \
        "30, against 28 for 28 units" in words


def test_a_fill_rate_target_says_returns_may_come_after_the_stock_runs_out():
    terms = {**BASE, "service_target": "fill"}
    assert "stock could run out before they do" in why_more_than_blind(terms, 32, 30)


def test_minus_zero_is_never_written():
    terms = {**BASE, "safety_stock": 0.0, "blind_safety_stock": 0.0, "raw_order": -0.04,
             "blind_order_up_to": 17.0}
    assert "-0" not in why_more_than_blind(terms, 6, 0)


def test_an_order_of_nothing_is_zero_not_minus_zero():
    # ceil of a tiny negative is -0.0, which the run's explanation printed as "order -0".
    import numpy as np

    from forecasting.replenishment import round_order

    quantity, _ = round_order(np.array([-1e-12, -3.0, 0.0]), np.array([6, 6, 6]),
                              np.array([0, 0, 0]))
    assert not np.signbit(quantity).any()
    assert [f"{q:.0f}" for q in quantity] == ["0", "0", "0"]
