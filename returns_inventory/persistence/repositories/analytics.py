"""Returns analytics and the write-off report: each figure is one GROUP BY over the tables.

Every returns figure is keyed by the SALE: a unit counts in the window its sale falls in, so a
return rate compares like with like (units sold in the window, and what came back of them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    any_,
    cast,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ...domain.grading import WriteOffStatus
from ...domain.sales_window import SalesWindow
from ..refund_tables import inspection_outcomes
from ..returns_tables import imported_returns, return_lines, return_units, returns, write_offs
from ..summary_tables import returns_by_sale_day, sales_by_day
from ..tables import items, locations, sales_lines
from . import day_summary
from .base import Repository

POSTED = WriteOffStatus.POSTED
# Figures are keyed by the item SOLD (a returned unit is that item; an exchange is another).
SOLD_ITEM = sales_lines.c.item_id.label(
    "item_id"
)  # pending, rejected, superseded and reversed write-offs are not losses


RETURNED_ITEM = return_lines.c.item_id  # the same item, on the return line
HISTORY_ITEM = imported_returns.c.item_id.label("item_id")
HISTORY_UNITS = imported_returns.c.quantity


# What the report-wide figures (units sold, units back per reason) are read from: tables
# that only ever gain rows, and the item master (whose category may change).
GROWING = (sales_lines, return_units, imported_returns)
# Ids are handed out before commit, so one below the newest may still commit later: the
# count of the newest ids catches it.
RECENT_IDS = 1000


class ChangeStamp(NamedTuple):
    """Where the growing tables stood: (table, newest id, rows within RECENT_IDS of it) each,
    and the items' newest id and change time."""

    growing: tuple[tuple[str, int, int], ...]
    items: tuple


class AnalyticsRepository(Repository):
    def change_stamp(self, tables=GROWING) -> ChangeStamp:
        """A value that changes whenever a row is added to `tables` or an item changes:
        the newest id of each and how many rows lie within RECENT_IDS of it, and the items'
        newest id and change time; index lookups only."""
        columns = []
        for table in tables:
            newest = select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()
            # The LIMIT tells the planner it is a short walk down the index, not a scan
            # worth parallel workers.
            recent = select(table.c.id).where(table.c.id > newest - RECENT_IDS).limit(
                RECENT_IDS).subquery()
            columns += [newest, select(func.count()).select_from(recent).scalar_subquery()]
        columns += [select(func.max(items.c.id)).scalar_subquery(),
                    select(func.max(items.c.updated_at)).scalar_subquery()]
        row = self.connection.execute(select(*columns)).one()
        return ChangeStamp(
            tuple((t.name, int(row[2 * i]), int(row[2 * i + 1])) for i, t in enumerate(tables)),
            (row[-2], row[-1]))

    def _scoped(self, query, window: SalesWindow, item=sales_lines.c.item_id):
        """`query` of the window's sales (and filters). `item` is the column naming the item
        sold on the table a page's few items are best found from: for returns, their return
        lines (whose item is the sale's), not every sales line of those items."""
        query = query.where(sales_lines.c.sold_on.between(window.since, window.until))
        if window.sku is not None:
            query = query.where(items.c.sku == window.sku)
        if window.categories is not None:
            query = query.where(items.c.category.in_(window.categories))
        if window.item_ids is not None:
            query = query.where(self._among(item, window.item_ids))
        return query

    def few_rows_follow(self) -> None:
        """The rest of this transaction reads a page's few rows: on PostgreSQL, no parallel
        workers (starting them cost 60 ms of a 100 ms read of a page's returns at 100,000
        items; alone it took 35 ms)."""
        if self.is_postgres:
            self.connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))

    def sums_follow(self) -> None:
        """The rest of this transaction sums a whole window per item: on PostgreSQL, room
        for its hash of 100,000 items in memory (the default 4 MB spilled it to disk)."""
        if self.is_postgres:
            self.connection.execute(text("SET LOCAL work_mem = '64MB'"))

    def _among(self, column, ids):
        """column IN ids; on PostgreSQL one array parameter rather than one per id (a page
        names some 500 items, and the driver parses every placeholder)."""
        if self.is_postgres:
            return column == any_(literal(list(ids), ARRAY(Integer)))
        return column.in_(ids)

    def _returned_units(self, *columns):
        """Received units of returns, joined to the sale they came from."""
        return (
            select(*columns)
            .select_from(return_units)
            .join(return_lines, return_lines.c.id == return_units.c.return_line_id)
            .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
            .join(items, items.c.id == sales_lines.c.item_id)
        )

    def last_sale_day(self, category: str | None = None):
        """The latest day anything (of the category) was sold, or None: where a window that
        "defaults to the latest data" ends, for data that stopped in the past."""
        # From the units sold per day, newest day first: the sales lines have no index by day,
        # and their max() read all ten million of them on every returns page.
        query = select(sales_by_day.c.sold_on).order_by(sales_by_day.c.sold_on.desc()).limit(1)
        if category:
            query = query.join(items, items.c.id == sales_by_day.c.item_id).where(
                items.c.category == category)
        return self.connection.scalar(query)

    def sold_by_day(self, window: SalesWindow) -> list[dict]:
        """Units sold per sale day in the window (one SKU's chart): sold_on, units."""
        query = (select(sales_lines.c.sold_on, func.sum(sales_lines.c.quantity).label("units"))
                 .join(items, items.c.id == sales_lines.c.item_id)
                 .group_by(sales_lines.c.sold_on))
        return self._rows(self._scoped(query, window))

    def returned_by_day(self, window: SalesWindow) -> list[dict]:
        """Received units per sale day and reason: sold_on, reason, units."""
        query = self._returned_units(
            sales_lines.c.sold_on, return_lines.c.reason, func.count().label("units")
        ).group_by(sales_lines.c.sold_on, return_lines.c.reason)
        return self._rows(self._scoped(query, window, RETURNED_ITEM))

    def categories_sold(self, window: SalesWindow) -> tuple[str, ...]:
        """The categories of the items sold in the window (of its SKU, say), in order."""
        query = (select(items.c.category).distinct()
                 .where(select(sales_lines.c.id).where(
                     sales_lines.c.item_id == items.c.id,
                     sales_lines.c.sold_on.between(window.since, window.until)).exists())
                 .order_by(items.c.category))
        if window.sku is not None:
            query = query.where(items.c.sku == window.sku)
        if window.categories is not None:
            query = query.where(items.c.category.in_(window.categories))
        return tuple(self.connection.scalars(query))

    def rows_within(self, ranges: dict[str, tuple[int, int]]) -> dict[str, int]:
        """How many rows of each growing table have an id in (after, upto]: whether a
        transaction that took such ids has committed since they were last counted."""
        by_name = {t.name: t for t in GROWING}
        counts = [select(func.count()).select_from(by_name[name]).where(
            by_name[name].c.id > after, by_name[name].c.id <= upto).scalar_subquery()
            for name, (after, upto) in ranges.items()]
        return dict(zip(ranges, self.connection.execute(select(*counts)).one(), strict=True))

    def units_sold(self, window: SalesWindow, ids: tuple[int, int] | None = None) -> list[dict]:
        """Units sold per item in the window: item_id, sku, size, category, units; with `ids`
        (after, upto), of the sales lines with an id in that range only."""
        # Summed per item first and joined to the items after: grouping millions of lines by
        # the item's id alone takes half the time of grouping them by its columns.
        chosen = select(items.c.id)
        if window.sku is not None:
            chosen = chosen.where(items.c.sku == window.sku)
        if window.categories is not None:
            chosen = chosen.where(items.c.category.in_(window.categories))
        per_item = select(sales_lines.c.item_id, func.sum(sales_lines.c.quantity).label("units")
                          ).where(sales_lines.c.sold_on.between(window.since, window.until))
        if window.sku is not None or window.categories is not None:
            per_item = per_item.where(sales_lines.c.item_id.in_(chosen))
        if window.item_ids is not None:
            per_item = per_item.where(self._among(sales_lines.c.item_id, window.item_ids))
        sold = _within(per_item, sales_lines, ids).group_by(sales_lines.c.item_id).subquery()
        query = select(items.c.id.label("item_id"), items.c.sku, items.c.size,
                       items.c.category, sold.c.units).join(sold, sold.c.item_id == items.c.id)
        return self._rows(query)

    def recount_day_summaries(self) -> None:
        """Count sales_by_day and returns_by_sale_day again from every line."""
        day_summary.recount(self.connection)

    def summed_sold(self, window: SalesWindow) -> dict[str, list]:
        """units_sold of the whole window, from the units sold per item and day (a row per
        item and day, however many lines) instead of the lines; as columns (item_id, sku,
        size, category, units): a report reads 100,000 rows, and a mapping per row was most
        of what reading them cost."""
        per_item = (select(sales_by_day.c.item_id, func.sum(sales_by_day.c.units).label("units"))
                    .where(sales_by_day.c.sold_on.between(window.since, window.until))
                    .group_by(sales_by_day.c.item_id))
        sold = self._of_family(per_item, sales_by_day, window).subquery()
        return self._columns(select(items.c.id.label("item_id"), items.c.sku, items.c.size,
                                    items.c.category, sold.c.units)
                             .join(sold, sold.c.item_id == items.c.id))

    def summed_returned(self, window: SalesWindow) -> dict[str, list]:
        """units_returned of the whole window, from the units back per item, day of sale and
        reason; as columns: item_id, reason, units."""
        back = returns_by_sale_day
        query = (select(back.c.item_id, back.c.reason, func.sum(back.c.units).label("units"))
                 .where(back.c.sold_on.between(window.since, window.until))
                 .group_by(back.c.item_id, back.c.reason))
        return self._columns(self._of_family(query, back, window))

    def _columns(self, query) -> dict[str, list]:
        # One fetch of every row and one transpose, both in C: no Python work per row.
        result = self.connection.execute(query)
        names = tuple(result.keys())
        rows = result.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return {name: list(values) for name, values in zip(names, columns, strict=True)}

    def _of_family(self, query, summary, window: SalesWindow):
        """`query` of a summary, of the window's SKU or categories only."""
        if window.sku is None and window.categories is None:
            return query
        chosen = select(items.c.id)
        if window.sku is not None:
            chosen = chosen.where(items.c.sku == window.sku)
        if window.categories is not None:
            chosen = chosen.where(items.c.category.in_(window.categories))
        return query.where(summary.c.item_id.in_(chosen))

    def units_returned(self, window: SalesWindow, ids: dict[str, tuple[int, int]] | None = None
                       ) -> list[dict]:
        """Received units per item and customer reason: item_id, reason, units (live and
        imported returns each give rows; an item may appear in both); with `ids`, of the
        returned units and imported returns with an id in its (after, upto] ranges only."""
        ids = ids or {}
        query = _within(self._returned_units(
            SOLD_ITEM, return_lines.c.reason, func.count().label("units")
        ).group_by(SOLD_ITEM, return_lines.c.reason), return_units, ids.get("return_units"))
        history = _within(self._history(
            HISTORY_ITEM, imported_returns.c.reason, func.sum(HISTORY_UNITS).label("units")
        ).group_by(HISTORY_ITEM, imported_returns.c.reason), imported_returns,
            ids.get("imported_returns"))
        return self._rows(self._scoped(query, window, RETURNED_ITEM)) + self._rows(
            self._history_scoped(history, window))

    def awaiting_receipt(self, window: SalesWindow) -> list[dict]:
        """Authorized units not yet received, per item: item_id, units."""
        outstanding = return_lines.c.quantity - return_lines.c.received_quantity
        query = (
            select(SOLD_ITEM, func.sum(outstanding).label("units"))
            .join(returns, returns.c.id == return_lines.c.return_id)
            .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
            .join(items, items.c.id == sales_lines.c.item_id)
            .where(returns.c.status == "authorized")
            .group_by(SOLD_ITEM)
            .having(func.sum(outstanding) > 0)
        )
        return self._rows(self._scoped(query, window, RETURNED_ITEM))

    def inspection_outcomes(self, window: SalesWindow) -> list[dict]:
        """Units judged per SKU, customer reason and outcome in force (after overrides):
        sku, reason, outcome, units, deducted (the unit price not refunded, refusals aside)."""
        latest = (
            select(inspection_outcomes.c.unit_id,
                   func.max(inspection_outcomes.c.sequence).label("seq"))
            .group_by(inspection_outcomes.c.unit_id).subquery()
        )
        kept = inspection_outcomes.c.unit_price - inspection_outcomes.c.amount
        query = (
            select(items.c.sku, return_lines.c.reason, inspection_outcomes.c.outcome,
                   func.count().label("units"), func.sum(kept).label("deducted"))
            .select_from(inspection_outcomes)
            .join(latest, (latest.c.unit_id == inspection_outcomes.c.unit_id)
                  & (latest.c.seq == inspection_outcomes.c.sequence))
            .join(return_lines, return_lines.c.id == inspection_outcomes.c.return_line_id)
            .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
            .join(items, items.c.id == sales_lines.c.item_id)
            .group_by(items.c.sku, return_lines.c.reason, inspection_outcomes.c.outcome)
        )
        return self._rows(self._scoped(query, window, RETURNED_ITEM))

    def received(self, window: SalesWindow) -> list[dict]:
        """Received units per item, current grade (None: not graded) and days from sale to
        receipt (None: the sale's date is unknown): item_id, grade, days, units. The grades
        and receipt days of a page of the report in two statements rather than four."""
        days = self._days_from_sale_to_receipt().label("days")
        query = self._returned_units(
            SOLD_ITEM, return_units.c.grade, days, func.count().label("units")
        ).group_by(SOLD_ITEM, return_units.c.grade, days)
        received = func.coalesce(imported_returns.c.received_on, imported_returns.c.returned_on)
        history_days = self._days_between(imported_returns.c.sold_on, received).label("days")
        history = self._history(
            HISTORY_ITEM, imported_returns.c.grade, history_days,
            func.sum(HISTORY_UNITS).label("units")
        ).group_by(HISTORY_ITEM, imported_returns.c.grade, history_days)
        return self._rows(self._scoped(query, window, RETURNED_ITEM)) + self._rows(
            self._history_scoped(history, window))

    def written_off(self, window: SalesWindow) -> list[dict]:
        """Posted write-offs of returned units per item: item_id, units, value."""
        query = (
            self._returned_units(
                SOLD_ITEM,
                func.count().label("units"),
                func.sum(write_offs.c.value).label("value"),
            )
            .join(write_offs, write_offs.c.unit_id == return_units.c.id)
            .where(write_offs.c.status == POSTED)
            .group_by(SOLD_ITEM)
        )
        # Imported write-offs are valued at today's unit cost: the ERP sends no value.
        history = (
            self._history(HISTORY_ITEM, func.sum(HISTORY_UNITS).label("units"),
                          func.sum(HISTORY_UNITS * items.c.unit_cost).label("value"))
            .where(imported_returns.c.disposition == "write_off")
            .group_by(HISTORY_ITEM)
        )
        return self._rows(self._scoped(query, window, RETURNED_ITEM)) + self._rows(
            self._history_scoped(history, window))

    def _days_between(self, first, last):
        if self.is_postgres:
            return last - first
        return cast(func.julianday(last) - func.julianday(first), Integer)

    def _history(self, *columns):
        """Imported (ERP history) returns, joined to the item sold."""
        return select(*columns).select_from(imported_returns).join(
            items, items.c.id == imported_returns.c.item_id)

    def _history_scoped(self, query, window: SalesWindow):
        """As _scoped, by the sale's date; a return whose sale date is unknown counts on its
        own date."""
        # coalesce(sold_on, returned_on) in the window, written so the (item_id, sold_on)
        # index answers it for a page's items.
        query = query.where(or_(
            imported_returns.c.sold_on.between(window.since, window.until),
            and_(imported_returns.c.sold_on.is_(None),
                 imported_returns.c.returned_on.between(window.since, window.until))))
        if window.sku is not None:
            query = query.where(items.c.sku == window.sku)
        if window.categories is not None:
            query = query.where(items.c.category.in_(window.categories))
        if window.item_ids is not None:
            query = query.where(self._among(imported_returns.c.item_id, window.item_ids))
        return query

    def _days_from_sale_to_receipt(self):
        # Receipt days are counted in UTC on both databases, as every timestamp is stored.
        if self.is_postgres:
            received_on = cast(func.timezone("UTC", return_units.c.received_at), Date)
            return received_on - sales_lines.c.sold_on
        return cast(
            func.julianday(func.date(return_units.c.received_at))
            - func.julianday(sales_lines.c.sold_on),
            Integer,
        )

    def write_off_report(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        reason: str | None = None,
        grade: str | None = None,
        defect: str | None = None,
        sku: str | None = None,
        size: str | None = None,
        location: str | None = None,
    ) -> list[dict]:
        """Posted write-offs summed per sku, size, location and reason: units, value."""
        query = (
            select(
                items.c.sku,
                items.c.size,
                locations.c.code.label("location"),
                write_offs.c.reason,
                func.count().label("units"),
                func.sum(write_offs.c.value).label("value"),
            )
            .select_from(write_offs)
            .join(items, items.c.id == write_offs.c.item_id)
            .join(locations, locations.c.id == write_offs.c.location_id)
            .join(return_units, return_units.c.id == write_offs.c.unit_id)
            .where(write_offs.c.status == POSTED)
            .group_by(items.c.sku, items.c.size, locations.c.code, write_offs.c.reason)
            .order_by(items.c.sku, items.c.size, locations.c.code, write_offs.c.reason)
        )
        # The period is of posting days in UTC: [since 00:00, the day after until 00:00).
        if since is not None:
            query = query.where(write_offs.c.posted_at >= _midnight(since))
        if until is not None:
            query = query.where(write_offs.c.posted_at < _midnight(until + timedelta(days=1)))
        if reason:
            query = query.where(
                func.lower(write_offs.c.reason).contains(reason.lower(), autoescape=True)
            )
        if grade:
            query = query.where(return_units.c.grade == grade)
        if defect:
            # Defects are a JSON list of codes; a quoted code matches that code exactly.
            query = query.where(
                cast(return_units.c.defects, String).contains(f'"{defect}"', autoescape=True)
            )
        for column, wanted in (
            (items.c.sku, sku),
            (items.c.size, size),
            (locations.c.code, location),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        return self._rows(query)

    def _rows(self, query) -> list[dict]:
        # The columns' names once: a row's own mapping looks them up again for every row,
        # which was a second of the 200,000 rows a report of 100,000 items reads.
        result = self.connection.execute(query)
        names = tuple(result.keys())
        return [dict(zip(names, row, strict=True)) for row in result]


def _within(query, table, ids: tuple[int, int] | None):
    if ids is None:
        return query
    return query.where(table.c.id > ids[0], table.c.id <= ids[1])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
