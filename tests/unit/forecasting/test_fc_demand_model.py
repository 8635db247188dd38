"""DemandModel: demand alone, one model per series, intervals at the levels asked for, and
long frames that line up with statsforecast's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import DemandModel, SalesPanel
from forecasting.frames import DatedPanel, forecast_frame, sales_panel


def _panel(weeks: int = 80, seed: int = 0) -> SalesPanel:
    rng = np.random.default_rng(seed)
    level = np.array([[20.0], [5.0], [0.4]])  # steady, small, intermittent
    y = rng.poisson(level * (1 + 0.3 * np.sin(np.arange(weeks) * 2 * np.pi / 52)))
    return SalesPanel(np.array(["TEE|M", "TEE|S", "CAP|ONE"]), y.astype(np.float32))


def test_a_forecast_carries_nested_intervals_that_never_go_below_zero():
    fc = DemandModel(_panel()).fit().forecast(13, level=[80, 95])
    assert fc.mean.shape == (3, 13) and fc.origin_week == 79
    assert set(fc.lower) == set(fc.upper) == {80, 95}
    assert np.all(fc.lower[95] <= fc.lower[80]) and np.all(fc.lower[80] <= fc.mean)
    assert np.all(fc.mean <= fc.upper[80]) and np.all(fc.upper[80] < fc.upper[95])
    assert np.all(fc.lower[95] >= 0)
    # Intervals widen with the horizon, as the planner's do.
    assert np.all(np.diff(fc.upper[80] - fc.mean, axis=1) >= -1e-9)


def test_each_series_is_forecast_by_one_of_the_models_named_or_the_fallback():
    fit = DemandModel(_panel(), models=("holt", "theta"), fallback="moving_average").fit()
    assert set(fit.method) <= {"holt", "theta", "moving_average"}
    assert set(fit.method[:2]) <= {"holt", "theta"}
    # Trend models do not suit intermittent demand: that series has no candidate it may try,
    # and takes the fallback.
    assert fit.method[2] == "moving_average" and fit.why[2] == "short_history"


def test_a_series_too_short_to_score_takes_the_fallback_model():
    short = SalesPanel(np.array(["NEW|M"]), np.array([[3.0, 4.0, 5.0, 4.0]], np.float32))
    fit = DemandModel(short, fallback="ses").fit()
    assert (fit.method[0], fit.why[0]) == ("ses", "short_history")
    assert fit.forecast(2).mean[0, 0] > 0


def test_an_unknown_model_or_a_horizon_past_the_fit_is_refused_in_words():
    with pytest.raises(ValueError, match="unknown model 'arima'"):
        DemandModel(_panel(), models=("ses", "arima"))
    with pytest.raises(ValueError, match=r"h must be 1\.\.8"):
        DemandModel(_panel(), max_horizon=8).fit().forecast(9)


def _long(panel: SalesPanel, first: str) -> pd.DataFrame:
    n, t = panel.y.shape
    return pd.DataFrame({
        "unique_id": np.repeat(panel.ids, t),
        "ds": np.tile(pd.date_range(first, periods=t, freq="W-SUN"), n),
        "y": panel.y.ravel(),
    })


def test_a_long_frame_with_dates_comes_back_as_statsforecast_columns_on_the_next_dates():
    frame = _long(_panel(), "2025-01-05")
    panel = sales_panel(frame)
    assert isinstance(panel, DatedPanel)
    out = forecast_frame(DemandModel(panel).fit().forecast(4, level=[80, 95]), panel)
    assert list(out.columns) == ["unique_id", "ds", "DemandModel", "DemandModel-lo-80",
                                 "DemandModel-hi-80", "DemandModel-lo-95", "DemandModel-hi-95"]
    last = frame["ds"].max()
    expected = pd.date_range(last + pd.Timedelta(days=7), periods=4, freq="W-SUN")
    assert list(out.loc[out["unique_id"] == "TEE|M", "ds"]) == list(expected)
    assert sorted(out["unique_id"].unique()) == ["CAP|ONE", "TEE|M", "TEE|S"]


def test_the_frame_merges_row_for_row_with_statsforecast_output():
    statsforecast = pytest.importorskip("statsforecast")
    from statsforecast.models import Naive

    frame = _long(_panel(), "2025-01-05")
    panel = sales_panel(frame)
    ours = forecast_frame(DemandModel(panel).fit().forecast(6, level=[80]), panel)
    theirs = statsforecast.StatsForecast(models=[Naive()], freq="W-SUN").forecast(
        df=frame, h=6, level=[80])
    both = ours.merge(theirs, on=["unique_id", "ds"], how="inner")
    assert len(both) == len(ours) == len(theirs) == 18
    assert {"DemandModel-lo-80", "Naive-lo-80"} <= set(both.columns)


def test_week_numbers_stay_week_numbers():
    frame = pd.DataFrame({"unique_id": ["A"] * 30, "ds": np.arange(100, 130),
                          "y": np.full(30, 2.0)})
    panel = sales_panel(frame)
    assert type(panel) is SalesPanel and panel.start_week == 100
    out = forecast_frame(DemandModel(panel).fit().forecast(3), panel)
    assert list(out["ds"]) == [130, 131, 132]
    assert np.allclose(out["DemandModel"], 2.0)
