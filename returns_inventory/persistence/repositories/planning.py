"""Set-based reads for the nightly run, and the writes of its results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
from psycopg.pq import TransactionStatus
from sqlalchemy import Date, DateTime, Integer, case, cast, func, literal, select, union_all

from ...domain.replenishment import DECIDED, EDITED, PROPOSED, SUPERSEDED
from ...domain.weeks import EPOCH, monday_of
from ..bulk import fetch_ints, insert_columns, stream_ints
from ..planning_tables import forecast_runs, replenishment_suggestions, series_forecasts
from ..returns_tables import imported_returns, return_lines, return_units, returns
from ..tables import items, locations, purchase_order_lines, sales_lines, stock_balances
from .base import Repository, utcnow

IDLE = TransactionStatus.IDLE
FORECAST_JSON = ("forecast", "lower", "upper", "expected_returns")
SUGGESTION_JSON = ("terms",)


def _snapshot_id(snapshot: str) -> str:
    # Snapshot ids look like 00000003-0000001B-1; they are quoted into SQL, so check the shape.
    if not all(part and all(c in "0123456789ABCDEFabcdef" for c in part)
               for part in snapshot.split("-")):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    return snapshot


def _in_range(column, item_range):
    return () if item_range is None else (column >= item_range[0], column < item_range[1])


class PlanningRepository(Repository):
    def _week(self, column):
        """SQL for the week index of a date or timestamp column, in this database's dialect.
        Timestamps are read in UTC, as stored: PostgreSQL would otherwise take the session's
        time zone, and a parcel received near midnight on a Sunday would change weeks."""
        if self.is_postgres:
            if isinstance(getattr(column.type, "impl", column.type), DateTime):
                column = func.timezone("UTC", column)
            return cast(func.floor((cast(column, Date) - literal(EPOCH)) / 7.0), Integer)
        return cast(
            func.floor((func.julianday(column) - func.julianday(EPOCH.isoformat())) / 7.0),
            Integer,
        )

    def planning_items(self, *, stream: bool = False) -> Any:
        """The catalogue in planning order; with ``stream``, rows as they arrive (a server-side
        cursor on PostgreSQL), for a caller that keeps columns rather than a million rows."""
        query = (select(items.c.id, items.c.sku, items.c.size, items.c.category,
                        items.c.unit_cost, items.c.lead_time_days, items.c.case_pack,
                        items.c.min_order_qty, items.c.supplier, items.c.launched_on)
                 .order_by(items.c.sku, items.c.size))
        if stream:
            return self.connection.execute(query.execution_options(yield_per=20_000))
        return self.connection.execute(query).all()

    def read_one_snapshot(self) -> None:
        """Make every later read of this transaction see one snapshot, and forbid writes.

        Only possible as the transaction's first statement; inside a savepoint (the tests'
        outer transaction) the surrounding transaction already decides what is seen.
        """
        if self.is_postgres and self._driver().info.transaction_status == IDLE:
            self.connection.exec_driver_sql(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def export_snapshot(self) -> str | None:
        """An id other sessions can adopt to read exactly what this transaction reads."""
        if not self.is_postgres:
            return None
        return self.connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()

    def adopt_snapshot(self, snapshot: str) -> None:
        """Read what the exporting transaction reads (first statements of a fresh one)."""
        self.connection.exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        self.connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'")

    def _driver(self):
        return self.connection.connection.driver_connection

    def weekly_sales(self, first_week: int, last_week: int,
                     item_range: tuple[int, int] | None = None) -> np.ndarray:
        """(item_id, week, units) summed in the database: one row per item and week."""
        return fetch_ints(self.connection, self._weekly_sales(first_week, last_week, item_range))

    def sales_blocks(self, first_week: int, last_week: int,
                     item_range: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
        """(item_id, week, units) of every sales line, a block of rows at a time as they
        arrive, not summed: a caller adding them up into its own array spares the database a
        grouping of millions of rows, most of them alone in their item and week."""
        return stream_ints(self.connection, self._sales(first_week, last_week, item_range))

    def _sales(self, first_week: int, last_week: int, item_range):
        week = self._week(sales_lines.c.sold_on).label("week")
        return select(sales_lines.c.item_id, week, sales_lines.c.quantity).where(
            sales_lines.c.sold_on >= monday_of(first_week),
            sales_lines.c.sold_on < monday_of(last_week + 1),
            *_in_range(sales_lines.c.item_id, item_range),
        )

    def _weekly_sales(self, first_week: int, last_week: int, item_range):
        inner = self._sales(first_week, last_week, item_range).subquery()
        return (select(inner.c.item_id, inner.c.week, func.sum(inner.c.quantity))
                .group_by(inner.c.item_id, inner.c.week))

    def received_returns(self, first_week: int, last_week: int, *, reasons: tuple[str, ...],
                         other_reason: int, grades: tuple[str, ...], no_grade: int,
                         item_range: tuple[int, int] | None = None) -> np.ndarray:
        """(item_id, sale week, receipt week, reason code, grade code, units) of received
        customer units. Codes are positions in ``reasons``/``grades``, computed in the database
        so millions of strings never cross the wire; unknown reasons count as ``other_reason``,
        ungraded units as ``no_grade``."""
        return fetch_ints(self.connection, self._received_returns(
            first_week, last_week, reasons=reasons, other_reason=other_reason, grades=grades,
            no_grade=no_grade, item_range=item_range))

    def received_returns_blocks(self, first_week: int, last_week: int,
                                item_range: tuple[int, int] | None = None,
                                **codes: Any) -> Iterator[np.ndarray]:
        """``received_returns`` a block of rows at a time, as they arrive, and not summed:
        rows of the same item, weeks, reason and grade may come apart (whoever counts them
        adds them up; grouping tens of millions of units, nearly all alone in their group,
        was half the query)."""
        return stream_ints(self.connection, self._received_returns(
            first_week, last_week, item_range=item_range, summed=False, **codes))

    def _received_returns(self, first_week: int, last_week: int, *, reasons, other_reason,
                          grades, no_grade, item_range, summed: bool = True):
        sale_week = self._week(sales_lines.c.sold_on).label("sale_week")
        receipt_week = self._week(return_units.c.received_at).label("receipt_week")
        reason = case({r: k for k, r in enumerate(reasons)}, value=return_lines.c.reason,
                      else_=other_reason).label("reason")
        grade = case({g: k for k, g in enumerate(grades) if g}, value=return_units.c.grade,
                     else_=no_grade).label("grade")
        live = (
            select(return_units.c.item_id, sale_week, receipt_week, reason, grade,
                   literal(1).label("units"))
            .join(return_lines, return_lines.c.id == return_units.c.return_line_id)
            .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
            .where(sales_lines.c.sold_on >= monday_of(first_week),
                   return_units.c.received_at
                   < datetime.combine(monday_of(last_week + 1), time(), UTC),
                   *_in_range(return_units.c.item_id, item_range))
        )
        inner = union_all(live, self._imported_returns(
            first_week, last_week, reasons=reasons, other_reason=other_reason, grades=grades,
            no_grade=no_grade, item_range=item_range))
        if not summed:
            return inner
        inner = inner.subquery()
        return (select(inner.c.item_id, inner.c.sale_week, inner.c.receipt_week, inner.c.reason,
                       inner.c.grade, func.sum(inner.c.units))
                .group_by(inner.c.item_id, inner.c.sale_week, inner.c.receipt_week,
                          inner.c.reason, inner.c.grade))

    def _imported_returns(self, first_week: int, last_week: int, *, reasons, other_reason,
                          grades, no_grade, item_range):
        """Imported ERP history in received_returns' columns, as many units as each line.
        Received on its receipt date, else its return date; a return whose sale date is
        unknown counts as sold the week it came back."""
        received = func.coalesce(imported_returns.c.received_on, imported_returns.c.returned_on)
        sold = func.coalesce(imported_returns.c.sold_on, imported_returns.c.returned_on)
        return select(
            imported_returns.c.item_id,
            self._week(sold).label("sale_week"),
            self._week(received).label("receipt_week"),
            case({r: k for k, r in enumerate(reasons)}, value=imported_returns.c.reason,
                 else_=other_reason).label("reason"),
            case({g: k for k, g in enumerate(grades) if g}, value=imported_returns.c.grade,
                 else_=no_grade).label("grade"),
            imported_returns.c.quantity.label("units"),
        ).where(sold >= monday_of(first_week), received < monday_of(last_week + 1),
                *_in_range(imported_returns.c.item_id, item_range))

    def stock_positions(self) -> np.ndarray:
        """(item_id, sellable on hand, reserved, units in quarantine) across every location."""
        sellable = stock_balances.c.condition == "sellable"
        quarantine = stock_balances.c.condition == "quarantine"
        return fetch_ints(self.connection, select(
            stock_balances.c.item_id,
            func.coalesce(func.sum(case((sellable, stock_balances.c.on_hand), else_=0)), 0),
            func.coalesce(func.sum(case((sellable, stock_balances.c.reserved), else_=0)), 0),
            func.coalesce(func.sum(case((quarantine, stock_balances.c.on_hand), else_=0)), 0),
        ).group_by(stock_balances.c.item_id))

    def returns_in_transit(self) -> np.ndarray:
        """(item_id, units) authorized but not yet received."""
        return fetch_ints(self.connection, (
            select(return_lines.c.item_id,
                   func.coalesce(func.sum(return_lines.c.quantity
                                          - return_lines.c.received_quantity), 0))
            .join(returns, returns.c.id == return_lines.c.return_id)
            .where(returns.c.status == "authorized")
            .group_by(return_lines.c.item_id)))

    def open_purchase_orders(self) -> np.ndarray:
        """(item_id, expected week, units still to come) of open PO lines."""
        week = self._week(purchase_order_lines.c.expected_on).label("week")
        inner = select(
            purchase_order_lines.c.item_id, week,
            (purchase_order_lines.c.quantity - purchase_order_lines.c.received_quantity)
            .label("units"),
        ).where(
            purchase_order_lines.c.status == "open",
            # Lines imported before imports refused over-receipts must not count as negative.
            purchase_order_lines.c.quantity > purchase_order_lines.c.received_quantity,
        ).subquery()
        return fetch_ints(self.connection, (
            select(inner.c.item_id, inner.c.week, func.coalesce(func.sum(inner.c.units), 0))
            .group_by(inner.c.item_id, inner.c.week)))

    def replenish_location_id(self, code: str) -> int | None:
        query = select(locations.c.id)
        if code:
            query = query.where(locations.c.code == code)
        else:
            query = query.where(locations.c.type == "warehouse").order_by(locations.c.code)
        return self.connection.scalar(query.limit(1))

    # --- runs -------------------------------------------------------------------------
    def start_run(self, **values: Any) -> int:
        return self.connection.execute(
            forecast_runs.insert()
            .values(status="running", started_at=utcnow(), figures={}, failures=[], **values)
            .returning(forecast_runs.c.id)
        ).scalar_one()

    def finish_run(self, run_id: int, **values: Any) -> None:
        self.connection.execute(
            forecast_runs.update().where(forecast_runs.c.id == run_id)
            .values(finished_at=utcnow(), **values)
        )

    def run(self, run_id: int) -> dict | None:
        row = self.connection.execute(
            select(forecast_runs).where(forecast_runs.c.id == run_id)
        ).first()
        return dict(row._mapping) if row else None

    def list_runs(self, *, offset: int, limit: int) -> tuple[list[dict], int]:
        total = self.connection.scalar(select(func.count()).select_from(forecast_runs)) or 0
        rows = self.connection.execute(
            select(forecast_runs).order_by(forecast_runs.c.id.desc()).offset(offset).limit(limit)
        )
        return [dict(r._mapping) for r in rows], total

    def previous_quantities(self, location_id: int, run_id: int, as_of: date) -> dict[int, int]:
        """What planners saw per item just before this run, for "change since the last run".

        The last run is the latest earlier one in as-of order (a backfill for an older date
        is not "last" for tonight's run, and tonight's is not for the backfill's), and what it
        left in force includes the decisions it carried forward without rewriting them.
        """
        r = forecast_runs.c
        last = self.connection.execute(
            select(r.id, r.as_of)
            .where(r.status == "succeeded", r.discarded_at.is_(None),
                   (r.as_of < as_of) | ((r.as_of == as_of) & (r.id < run_id)))
            .order_by(r.as_of.desc(), r.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return {}
        s = replenishment_suggestions.c
        rows = self.connection.execute(
            select(s.item_id, s.suggested_qty)
            .where(s.location_id == location_id,
                   (s.run_id == last.id)
                   | ((s.as_of == last.as_of) & (s.run_id < last.id)
                      & s.status.in_(DECIDED)))
            .order_by(s.run_id)
        )
        return {row.item_id: row.suggested_qty for row in rows}

    def supersede_undecided(self, as_of: date, keep_run: int) -> int:
        """Undecided suggestions of earlier runs step aside for this run's.

        A backfill for an older date never touches newer suggestions; an edit awaiting
        approval survives a re-run of its own day but not the next day's run, which was
        computed from newer figures (two live numbers for one item would risk a double order).
        """
        s = replenishment_suggestions.c
        return self.connection.execute(
            replenishment_suggestions.update()
            .where(
                s.run_id != keep_run,
                ((s.status == PROPOSED) & (s.as_of <= as_of))
                | ((s.status == EDITED) & (s.as_of < as_of)),
            )
            # A new version: a planner's decision on the version they saw must now miss.
            .values(status=SUPERSEDED, version=s.version + 1)
        ).rowcount

    def decided_items(self, as_of: date, location_id: int) -> set[int]:
        """Items a planner approved, rejected or edited for this as-of date (a re-run keeps
        them: an edit is a planner's number still awaiting approval, not ours to replace).

        Read it after `supersede_undecided`: that update waits for a decision in flight, and
        once it has run no undecided row of the date is left for a planner to decide on.
        """
        rows = self.connection.execute(
            select(replenishment_suggestions.c.item_id).where(
                replenishment_suggestions.c.as_of == as_of,
                replenishment_suggestions.c.location_id == location_id,
                replenishment_suggestions.c.status.in_(DECIDED),
            )
        )
        return {r.item_id for r in rows}

    def add_forecasts(self, rows: list[dict]) -> None:
        if rows:
            self.connection.execute(series_forecasts.insert(), rows)

    def add_suggestions(self, rows: list[dict]) -> None:
        if rows:
            now = utcnow()
            self.connection.execute(
                replenishment_suggestions.insert(), [{**r, "created_at": now} for r in rows]
            )

    def add_forecast_columns(self, columns: dict[str, list]) -> None:
        """A run's forecasts, column by column (JSON columns as JSON text): COPY on
        PostgreSQL, where 100,000 rows through executemany took most of a minute."""
        insert_columns(self.connection, series_forecasts, columns, json_columns=FORECAST_JSON)

    def add_suggestion_columns(self, columns: dict[str, list]) -> None:
        """A run's suggestions, column by column (JSON columns as JSON text)."""
        insert_columns(self.connection, replenishment_suggestions, columns,
                       json_columns=SUGGESTION_JSON)
