"""The entry point as the nightly job will call it: arrays in, dataclasses of arrays out."""

import numpy as np
import pytest

from forecasting import (
    DemandOptions,
    ItemParams,
    Planner,
    ReplenishmentOptions,
    ReturnsData,
    SalesPanel,
    StockPosition,
    run_pipeline,
)
from forecasting.pipeline import fallback_counts
from forecasting.returns import ReturnCounts, count_returns
from forecasting.selection import select
from forecasting.synthetic import make_apparel_panel


@pytest.fixture(scope="module")
def panel():
    return make_apparel_panel(1500, seed=5)


@pytest.fixture(scope="module")
def result(panel):
    return run_pipeline(panel.sales, panel.returns, panel.stock, panel.items)


def test_every_output_has_one_row_per_series_in_input_order(panel, result):
    n = len(panel.sales.ids)
    for part in (result.demand, result.returns, result.replenishment):
        assert list(part.ids) == list(panel.sales.ids)
        assert len(part.to_records()) == n
    assert result.demand.forecast.shape == (n, 13)


def test_records_are_plain_python_values_keyed_by_unique_id(result):
    rec = result.replenishment.to_records()[0]
    assert isinstance(rec["unique_id"], str)
    assert isinstance(rec["order_qty"], float)
    assert isinstance(result.demand.to_records()[0]["forecast"], list)
    week = result.demand.to_long_records()[0]
    assert week["week"] == result.demand.origin_week + 1


def test_forecasts_and_orders_are_never_negative(result):
    d, p = result.demand, result.replenishment
    assert (d.forecast >= 0).all() and (d.lower >= 0).all()
    assert (d.lower <= d.forecast + 1e-9).all() and (d.forecast <= d.upper + 1e-9).all()
    assert (p.order_qty >= 0).all() and (p.blind_order_qty >= 0).all()


def test_size_forecasts_add_up_to_the_sku_forecast(panel):
    # Selection alone (no pooled index, no lifecycle profile) so the SKU forecast is select's.
    opts = DemandOptions(pooled_seasonality=False, lifecycle=False)
    result = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items, demand=opts)
    sku = panel.truth["sku"]
    starts = np.flatnonzero(np.r_[True, sku[1:] != sku[:-1]])
    sku_fc = select(np.add.reduceat(panel.sales.y, starts), horizon=13,
                    penalty=opts.complexity_penalty, combine=opts.combine).forecast
    f = result.demand.forecast
    totals = np.stack([np.bincount(sku, weights=f[:, h]) for h in range(f.shape[1])], axis=1)
    placed = totals.sum(axis=1) > 0  # a SKU whose sizes all forecast zero cannot be split
    assert placed.mean() > 0.95
    np.testing.assert_allclose(totals[placed], sku_fc[placed], rtol=1e-9, atol=1e-9)
    assert (result.demand.level == "own_model").any()


def test_every_replenishment_term_adds_up(result):
    p = result.replenishment
    np.testing.assert_allclose(
        p.order_up_to, np.maximum(p.gross_demand - p.expected_returns + p.safety_stock, 0))
    np.testing.assert_allclose(p.inventory_position, p.on_hand - p.reserved + p.on_order)
    np.testing.assert_allclose(p.raw_order, np.maximum(p.order_up_to - p.inventory_position, 0))
    assert (p.order_qty >= p.raw_order - 1e-9).all()


def test_return_aware_orders_up_to_less_than_return_blind(result):
    p = result.replenishment
    assert (p.order_up_to <= p.blind_order_up_to + 1e-6).mean() > 0.9
    assert p.order_up_to.sum() < 0.95 * p.blind_order_up_to.sum()


def test_intermittent_sizes_use_the_quantile_safety_stock(result):
    inter = np.isin(result.demand.demand_class, ("intermittent", "lumpy"))
    assert inter.any()
    assert (result.replenishment.safety_stock_method[inter] == "quantile").all()
    assert (result.replenishment.safety_stock_method[~inter] == "normal").all()


def test_explanations_name_every_term(result):
    text = result.replenishment.explain(0)
    for word in ("demand over", "returns expected", "safety stock", "service level",
                 "inventory position", "raw order", "Return-blind"):
        assert word in text
    assert "holdout" in result.demand.explain(0) or "history" in result.demand.explain(0)


def test_case_pack_and_moq_apply_to_the_suggested_order(panel):
    n = len(panel.sales.ids)
    items = ItemParams.uniform(n, case_pack=6, moq=24, lead_time=2)
    res = run_pipeline(panel.sales, panel.returns, None, items,
                       replenishment=ReplenishmentOptions(moq_rule="raise"))
    q = res.replenishment.order_qty
    assert (q % 6 == 0).all()
    assert ((q == 0) | (q >= 24)).all()


def test_open_orders_and_reservations_enter_the_inventory_position(panel):
    n = len(panel.sales.ids)
    stock = StockPosition(on_hand=np.full(n, 5.0), reserved=np.full(n, 2.0),
                          returns_in_transit=np.zeros(n), on_order_series=np.array([0, 0, 1]),
                          on_order_week=np.array([104, 105, 104]),
                          on_order_units=np.array([10.0, 4.0, 7.0]))
    p = run_pipeline(panel.sales, panel.returns, stock, panel.items).replenishment
    assert p.inventory_position[:3].tolist() == [17.0, 10.0, 3.0]


def test_workers_give_the_same_answer_as_one_process():
    small = make_apparel_panel(300, seed=9)
    args = (small.sales, small.returns, small.stock, small.items)
    one = Planner(*args).fit()
    par = Planner(*args, workers=2, chunk_size=80).fit()
    np.testing.assert_allclose(par.demand.forecast, one.demand.forecast)
    np.testing.assert_array_equal(par.replenishment.order_qty, one.replenishment.order_qty)


def test_unsorted_input_rows_come_back_in_the_callers_order(panel, result):
    order = np.random.default_rng(0).permutation(len(panel.sales.ids))
    sales = SalesPanel(panel.sales.ids[order], panel.sales.y[order], 0)
    inv = np.argsort(order)
    rets = ReturnsData(inv[panel.returns.series], panel.returns.sale_week,
                       panel.returns.receipt_week, panel.returns.reason, panel.returns.grade)
    items = ItemParams(*(np.asarray(getattr(panel.items, f))[order] for f in (
        "category", "lead_time", "review_period", "case_pack", "moq", "unit_cost",
        "service_level")))
    res = run_pipeline(sales, rets, None, items)
    np.testing.assert_allclose(res.demand.forecast, result.demand.forecast[order])


def test_long_panel_and_string_codes_are_accepted():
    sales = SalesPanel.from_long(["T1|S", "T1|M", "T1|S", "T2|L"], [0, 0, 1, 3], [2, 1, 3, 5])
    rets = ReturnsData.from_records(sales, ["T1|S", "nope|X"], [0, 0], [1, 1],
                                    ["too_small", "other"], ["A", None])
    assert sales.y.shape == (3, 4) and len(rets.series) == 1
    res = run_pipeline(sales, rets)
    assert res.demand.forecast.shape[0] == 3
    with pytest.raises(ValueError, match="too_tight"):
        ReturnsData.from_records(sales, ["T1|S"], [0], [1], ["too_tight"], ["A"])


def test_the_diagnostics_count_models_and_fallbacks(result):
    diag = result.diagnostics
    assert sum(diag["methods"].values()) == diag["n_series"]
    assert diag["fallbacks_total"] == sum(diag["fallbacks"].values())


def test_statsmodels_tries_and_wins_are_not_counted_as_fallbacks_but_its_failures_are():
    counts = {"ets_statsmodels_tried": 7, "ets_statsmodels_won": 3, "ets_statsmodels": 2,
              "own_size_model_tried": 9, "damped": 1}
    assert fallback_counts(counts) == {"ets_statsmodels": 2, "damped": 1}


def test_forecasts_are_identical_whatever_the_workers_and_chunks():
    # 130 weeks: statsmodels ETS is eligible, and with a budget of 4 SKUs per run the same four
    # must be tried whether the panel is one chunk in this process or five over two workers.
    panel = make_apparel_panel(600, n_weeks=130, seed=8)
    demand = DemandOptions(statsmodels_max_series=4)
    one = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items, demand=demand)
    many = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items, demand=demand,
                        workers=2, chunks=5)
    assert one.diagnostics["counts"]["ets_statsmodels_tried"] == 4
    assert many.diagnostics["counts"]["ets_statsmodels_tried"] == 4
    for part in ("demand", "replenishment"):
        a, b = getattr(one, part), getattr(many, part)
        for name in ("forecast", "sigma") if part == "demand" else ("order_qty", "safety_stock"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(one.demand.method, many.demand.method)


def test_forecasts_and_plans_are_identical_on_an_executor():
    # On a cluster the chunks, the SKU-season test's rows, the quantiles and the return-blind
    # plan (beside the aware one) all go out: every result must be the same bits as here.
    from concurrent.futures import ThreadPoolExecutor

    panel = make_apparel_panel(600, n_weeks=130, seed=9)
    demand = DemandOptions(statsmodels_max_series=4)
    here = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items, demand=demand)
    with ThreadPoolExecutor(2) as pool:
        out = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items, executor=pool,
                           chunks=5, demand=demand)
    for part in ("demand", "replenishment"):
        a, b = getattr(here, part), getattr(out, part)
        for name, value in vars(a).items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(value, getattr(b, name),
                                      equal_nan=value.dtype.kind == "f"), name
    assert (here.replenishment.blind_order_qty != here.replenishment.order_qty).any()


@pytest.mark.parametrize(("n_series", "n_weeks", "says"), [
    (0, 60, "no series"), (3, 0, "no weeks")])
def test_a_panel_with_nothing_to_plan_is_refused_in_words(n_series, n_weeks, says):
    ids = np.array([f"SKU-{i}|M" for i in range(n_series)], dtype=object)
    with pytest.raises(ValueError, match=says):
        Planner(SalesPanel(ids, np.zeros((n_series, n_weeks))))


def test_replan_reuses_the_fit_and_changes_only_what_the_targets_change(panel):
    planner = Planner(panel.sales, panel.returns, panel.stock, panel.items)
    fitted = planner.fit().replenishment
    same = planner.replan(panel.items)
    for name in ("order_qty", "safety_stock", "returns_from_past_sales", "units_still_out"):
        np.testing.assert_array_equal(getattr(same, name), getattr(fitted, name))
    higher = planner.replan(ItemParams(**{**vars(panel.items),
                                          "service_level": np.full(len(panel.items.lead_time),
                                                                   0.99)}))
    # The cohorts still out are facts of the fit; the safety stock follows the new target.
    np.testing.assert_array_equal(higher.units_still_out, fitted.units_still_out)
    assert (higher.safety_stock >= fitted.safety_stock - 1e-9).all()
    assert (higher.safety_stock > fitted.safety_stock + 1e-9).any()


def test_units_whose_sale_was_lost_are_not_expected_back(panel):
    # A replay records unmet demand as sales: the planner's cohorts must hold only the units
    # actually sold, or it counts returns of sales that never happened and orders too little.
    planner = Planner(panel.sales, panel.returns, panel.stock, panel.items)
    fitted = planner.fit().replenishment
    n = len(panel.sales.ids)
    all_sold = planner.replan(panel.items, sold_share=np.ones((n, planner.window)))
    np.testing.assert_allclose(all_sold.order_up_to, fitted.order_up_to)
    half = planner.replan(panel.items, sold_share=np.full((n, planner.window), 0.5))
    np.testing.assert_allclose(half.units_still_out, fitted.units_still_out / 2)
    none = planner.replan(panel.items, sold_share=np.zeros((n, planner.window)))
    assert (none.units_still_out == 0).all()
    # with nothing sold recently only the forecast's own returns (and returns already in
    # transit) are expected, so the return-aware level rises; return-blind does not move
    assert none.returns_from_past_sales.sum() < 0.5 * fitted.returns_from_past_sales.sum()
    assert none.order_up_to.sum() > fitted.order_up_to.sum()
    np.testing.assert_allclose(none.blind_order_up_to, fitted.blind_order_up_to)


def test_the_plan_is_the_same_whatever_blocks_a_large_panel_is_worked_in(panel, result,
                                                                          monkeypatch):
    # At a million series the group sums and the window spread go a block at a time to bound
    # memory; a block boundary must not move a single bit of any result.
    import forecasting.pipeline as pipeline
    import forecasting.spread as spread

    monkeypatch.setattr(spread, "SPREAD_BLOCK", 7)
    monkeypatch.setattr(pipeline, "GROUP_WEEKS", 3)
    blocked = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items)
    for part in ("demand", "returns", "replenishment"):
        a, b = getattr(result, part), getattr(blocked, part)
        for name, value in vars(a).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(b, name), value, err_msg=name)


def test_returns_counted_apart_where_they_were_read_give_the_same_plan(panel, result):
    # Dask partitions count the returns of their own series; side by side, those counts must
    # plan exactly what the rows counted in one place do.
    n, r = len(panel.sales.ids), panel.returns
    cut = n // 3
    parts = []
    for rows in (np.arange(cut), np.arange(cut, n)):
        mine = np.isin(r.series, rows)
        local = ReturnsData(np.searchsorted(rows, r.series[mine]), r.sale_week[mine],
                            r.receipt_week[mine], r.reason[mine], r.grade[mine], r.units[mine])
        parts.append((rows, count_returns(local, len(rows), last_week=panel.sales.last_week,
                                          window=8)))
    counted = run_pipeline(panel.sales, ReturnCounts.gather(n, 8, parts), panel.stock,
                           panel.items)
    for part in ("demand", "returns", "replenishment"):
        a, b = getattr(result, part), getattr(counted, part)
        for name, value in vars(a).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(b, name), value, err_msg=name)


def test_return_counts_of_another_window_are_refused(panel):
    n = len(panel.sales.ids)
    counts = count_returns(panel.returns, n, last_week=panel.sales.last_week, window=6)
    with pytest.raises(ValueError, match="window"):
        Planner(panel.sales, counts, return_window_weeks=8)
