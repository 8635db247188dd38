"""Long pandas frames in and out, as statsforecast reads and writes them (optional: pandas).

Sales come in as rows ``unique_id, ds, y`` (``ds`` weekly dates, or integer week numbers);
forecasts go out as rows ``unique_id, ds, <alias>, <alias>-lo-80, <alias>-hi-80, ...``, the
columns statsforecast's ``forecast(h=..., level=[80])`` writes, so the two merge on
``unique_id, ds`` for a side-by-side comparison::

    from forecasting.frames import sales_panel, forecast_frame
    panel = sales_panel(df)
    fc = DemandModel(panel).fit().forecast(13, level=[80, 95])
    out = forecast_frame(fc, panel)

pandas is imported when these functions run, never when ``forecasting`` is imported: the
library and the service work without it (``pip install pandas`` for this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting.panel import SalesPanel

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.demand_model import DemandPrediction

WEEK = np.timedelta64(7, "D")


@dataclass(frozen=True)
class DatedPanel(SalesPanel):
    """A :class:`SalesPanel` read from a frame with dates: ``first_ds`` is the date of week
    ``start_week`` (0), so forecasts can be dated the same way (same weekday)."""

    first_ds: Any = None


def sales_panel(df: pd.DataFrame, *, id_col: str = "unique_id", time_col: str = "ds",
                target_col: str = "y") -> SalesPanel:
    """Pack a long frame into a weekly panel; rows of one series and week are summed.

    With dates in ``time_col`` the weeks count from the earliest date, seven days apart
    (a date between two weeks belongs to the one it falls in), and the result is a
    :class:`DatedPanel`; with integers they are the week numbers.
    """
    import pandas as pd

    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ValueError(f"the frame has no column {missing[0]!r}")
    ids = df[id_col].astype(str).to_numpy()
    y = df[target_col].to_numpy(dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(df[time_col]):
        dates = df[time_col].to_numpy(dtype="datetime64[D]")
        first = dates.min()
        week = ((dates - first) // WEEK).astype(np.int64)
        packed = SalesPanel.from_long(ids, week, y)
        return DatedPanel(packed.ids, packed.y, packed.start_week, first_ds=first)
    return SalesPanel.from_long(ids, df[time_col].to_numpy(dtype=np.int64), y)


def forecast_frame(fc: DemandPrediction, sales: SalesPanel | None = None, *,
                   alias: str = "DemandModel") -> pd.DataFrame:
    """The forecast as long rows: ``unique_id, ds, <alias>`` and, per level,
    ``<alias>-lo-<level>`` and ``<alias>-hi-<level>`` (statsforecast's names).

    ``ds`` are dates when ``sales`` is the :class:`DatedPanel` the forecast was made from,
    week numbers otherwise.
    """
    import pandas as pd

    n, h = fc.mean.shape
    week = np.tile(np.arange(fc.origin_week + 1, fc.origin_week + 1 + h), n)
    first = getattr(sales, "first_ds", None)
    ds = week if first is None else first + (week - sales.start_week) * WEEK  # type: ignore[union-attr]
    columns: dict[str, Any] = {"unique_id": np.repeat(np.asarray(fc.ids, dtype=str), h),
                               "ds": pd.to_datetime(ds) if first is not None else ds,
                               alias: fc.mean.ravel()}
    for level in sorted(fc.lower):
        label = f"{level:g}"
        columns[f"{alias}-lo-{label}"] = fc.lower[level].ravel()
        columns[f"{alias}-hi-{label}"] = fc.upper[level].ravel()
    return pd.DataFrame(columns)
