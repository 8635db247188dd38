"""Turn what the database holds into the forecasting library's packed arrays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from forecasting.panel import GRADES, NO_GRADE, REASONS
from forecasting.returns import ReturnCounts

from ..domain.weeks import week_of
from ..persistence.uow import UnitOfWork
from .planning_panel import Catalogue, Packer, PlanningInputs

__all__ = [
    "RETURN_CODES",
    "ForecastConfig",
    "PlanningInputs",
    "last_complete_week",
    "load_inputs",
    "pack_inputs",
]


@dataclass(frozen=True)
class ForecastConfig:
    """config/forecasting.toml, typed."""

    history_weeks: int = 104
    horizon_weeks: int = 13
    review_period_weeks: int = 1
    replenish_location: str = ""
    workers: int = 1
    executor: str = "local"
    dask_partitions: int = 8
    # Most workers (processes or Dask workers) a run may ask for; the scheduler runs it.
    max_workers: int = 4
    # A running run's process records a heartbeat this often; a run silent for longer
    # than lost_after_seconds is failed as lost and frees its leases.
    heartbeat_seconds: float = 30
    lost_after_seconds: float = 300
    return_window_weeks: int = 8
    interval_level: float = 0.8
    default_restockable: float = 0.8
    service_levels: dict[str, float] | None = None
    service_targets: dict[str, str] | None = None
    costs: dict[str, dict[str, float]] | None = None
    order_costs: dict[str, float] | None = None
    moq_rule: str = "raise"
    moq_threshold: float = 0.5
    fill_scope: str = "category"
    schedule: dict[str, Any] | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ForecastConfig:
        run = doc.get("run", {})
        ordering = doc.get("ordering", {})
        known = {f for f in cls.__dataclass_fields__}
        bad = {k: v for k, v in doc.get("service_targets", {}).items()
               if v not in ("cycle", "fill", "cost")}
        if bad:  # said at start-up, not by the nightly run at 2 a.m.
            name, value = next(iter(bad.items()))
            raise ValueError(f"forecasting.toml [service_targets] {name} = {value!r}: expected "
                             "'cycle', 'fill' or 'cost'")
        scope = str(ordering.get("fill_scope", "category"))
        if scope not in ("category", "item"):
            raise ValueError(f"forecasting.toml [ordering] fill_scope = {scope!r}: expected "
                             "'category' or 'item'")
        return cls(
            **{k: v for k, v in run.items() if k in known},
            service_levels={k: float(v) for k, v in doc.get("service_levels", {}).items()},
            service_targets={k: str(v) for k, v in doc.get("service_targets", {}).items()},
            costs={k: {"holding": float(v.get("holding", 0.0)),
                       "shortage": float(v.get("shortage", 0.0))}
                   for k, v in doc.get("costs", {}).items()},
            order_costs={k: float(v) for k, v in doc.get("order_costs", {}).items()},
            moq_rule=ordering.get("moq_rule", "raise"),
            moq_threshold=float(ordering.get("moq_threshold", 0.5)),
            fill_scope=scope,
            schedule=doc.get("schedule", {}),
        )

    def service_level(self, category: str) -> float:
        levels = self.service_levels or {}
        return levels.get(category, levels.get("default", 0.95))

    def service_target(self, category: str) -> str:
        targets = self.service_targets or {}
        return targets.get(category, targets.get("default", "cycle"))

    def cost(self, category: str, which: str) -> float:
        costs = self.costs or {}
        return costs.get(category, costs.get("default", {})).get(which, 0.0)

    def order_cost(self, supplier: str | None) -> float:
        return (self.order_costs or {}).get(supplier or "", 0.0)


def last_complete_week(as_of: date) -> int:
    """The last week fully observed on the morning of `as_of`."""
    return week_of(as_of - timedelta(days=1)) if as_of.weekday() == 0 else week_of(as_of) - 1


def load_inputs(uow: UnitOfWork, config: ForecastConfig, as_of: date) -> PlanningInputs:
    """Read everything the run needs with a handful of set-based queries, in one snapshot.

    The big sets (sales lines, returned units) are folded into the panel a block at a time
    as they arrive: at a million series the whole answers would be gigabytes of rows.
    """
    planning = uow.planning
    planning.read_one_snapshot()
    last = last_complete_week(as_of)
    first = last - config.history_weeks + 1
    packer = Packer(Catalogue.from_rows(planning.planning_items(stream=True)), config, first)
    for block in planning.sales_blocks(first, last):
        packer.add_sales(block)
    for block in planning.received_returns_blocks(first, last, **RETURN_CODES):
        packer.add_returns(block)
    return packer.finish(planning, config, as_of)


# How reasons and grades travel from the database: as their index in the library's tuples.
RETURN_CODES: dict[str, Any] = dict(reasons=REASONS, other_reason=REASONS.index("other"),
                                    grades=GRADES, no_grade=NO_GRADE)


def pack_inputs(planning, config: ForecastConfig, as_of: date, catalogue, weekly: np.ndarray,
                returned: np.ndarray | None = None, *,
                counted: list[tuple[np.ndarray, ReturnCounts]] | None = None) -> PlanningInputs:
    """Arrays of the big reads (weekly sales, returns) plus the small ones, as the library's
    panel. Row order is the catalogue's, whatever order the big reads came back in.

    The returns come as rows (``returned``) or already counted per item (``counted``:
    ``(item ids, their counts)`` pairs, see :meth:`Packer.add_counted`).
    """
    if not isinstance(catalogue, Catalogue):
        catalogue = Catalogue.from_rows(catalogue)
    packer = Packer(catalogue, config, last_complete_week(as_of) - config.history_weeks + 1)
    packer.add_sales(weekly)
    if returned is not None:
        packer.add_returns(returned)
    for ids, counts in counted or ():
        packer.add_counted(ids, counts)
    return packer.finish(planning, config, as_of)
