"""Reads and decisions on replenishment suggestions, for the planners' review."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    JSON,
    BigInteger,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ...domain import replenishment as domain
from ...domain.suggestion_filters import SORTABLE, RunScope, SuggestionFilter
from ...domain.weeks import monday_of
from ..planning_tables import (
    forecast_runs,
    replenishment_suggestions,
    series_forecasts,
    suggestion_decisions,
)
from ..tables import Money, Timestamp, UtcTimestamp, items, locations, sales_lines
from . import keyset
from .among import AmongIds
from .base import Repository, utcnow
from .planning import PlanningRepository

s, i, loc = replenishment_suggestions, items, locations
# A brand new suggestion (nothing suggested last run) changes by its whole quantity.
CHANGE = s.c.suggested_qty - func.coalesce(s.c.previous_qty, 0)
# Units the expected customer returns save against an order that ignored them.
SAVED_BY_RETURNS = s.c.return_blind_qty - s.c.suggested_qty

# A decided suggestion keeps the supplier and case pack it was ordered by; others follow the item.
SUPPLIER = func.coalesce(s.c.supplier, i.c.supplier)
CASE_PACK = func.coalesce(s.c.case_pack, i.c.case_pack)

# The supplier an approved line is exported under: the one it kept, else the item's when it
# was approved (kept in its export key; "" for none).
SHOWN_SUPPLIER = func.coalesce(s.c.supplier, func.nullif(s.c.export_supplier, ""))
NO_EXPORT_PLACE = {"export_supplier": None, "export_location": None, "export_sku": None,
                   "export_size": None, "export_cases": None}


def export_place(supplier: str | None, quantity: int | None, case_pack: int | None) -> dict:
    """An approved line's export key and whole cases, written with the approval: the supplier
    it is ordered from ("" for none), its location's code and its item's SKU and size (read
    by the update itself), the cases of the quantity in the case pack it was rounded to.
    Without a supplier or case pack, the item's (as the export falls back to them)."""
    place = {**_kept_place(supplier, quantity, case_pack), **_ROW_PLACE}
    if supplier is None:
        place["export_supplier"] = func.coalesce(
            select(i.c.supplier).where(i.c.id == s.c.item_id).scalar_subquery(), "")
    if case_pack is None:
        item_pack = select(i.c.case_pack).where(i.c.id == s.c.item_id).scalar_subquery()
        pack = case((func.coalesce(item_pack, 1) > 1, item_pack), else_=1)
        place["export_cases"] = ((quantity or 0) + pack - 1) // pack
    return place


def _kept_place(supplier: str | None, quantity: int | None, case_pack: int | None) -> dict:
    pack = case_pack if case_pack and case_pack > 1 else 1
    return {"export_supplier": supplier if supplier is not None else "",
            "export_cases": -(-(quantity or 0) // pack)}


# Read by the update from the row's own location and item (SKU, size and code never change).
_ROW_PLACE = {
    "export_location": select(loc.c.code).where(loc.c.id == s.c.location_id).scalar_subquery(),
    "export_sku": select(i.c.sku).where(i.c.id == s.c.item_id).scalar_subquery(),
    "export_size": select(i.c.size).where(i.c.id == s.c.item_id).scalar_subquery(),
}
_KEPT = ("export_supplier", "export_cases")

COLUMNS = {
    "id": s.c.id, "run_id": s.c.run_id, "as_of": s.c.as_of, "status": s.c.status,
    "sku": i.c.sku, "size": i.c.size, "category": i.c.category, "supplier": SUPPLIER,
    "location": loc.c.code, "suggested_qty": s.c.suggested_qty,
    "return_blind_qty": s.c.return_blind_qty, "saved_by_returns": SAVED_BY_RETURNS,
    "approved_qty": s.c.approved_qty, "previous_qty": s.c.previous_qty, "change": CHANGE,
    "case_pack": CASE_PACK, "unit_cost": s.c.unit_cost, "value": s.c.value,
    "version": s.c.version, "decided_by": s.c.decided_by, "decided_at": s.c.decided_at,
    "comment": s.c.comment,
}
# Shown beside each row of a list, not sorted by: the order's terms and the item's words.
EXTRA = {"terms": s.c.terms, "description": i.c.description,
         "lead_time_days": i.c.lead_time_days, "exported_at": s.c.exported_at}
# Every column a list can be sorted by is one of these (the domain names them).
assert set(SORTABLE) <= set(COLUMNS)
# Sort columns that may be NULL: they sort last either way, on every database.
NULLABLE = {"supplier", "approved_qty", "previous_qty", "decided_by", "decided_at"}
# A superseded suggestion was replaced by a newer run's, a discarded one withdrawn with its
# run; every other status may be decided on.
# Spelt out rather than IN (...): decide_many runs it with executemany, which cannot expand.
DECIDABLE = or_(*(s.c.status == status for status in domain.DECIDABLE))
# Withdrawn with a discarded run: in no list, count or export.
LISTED = s.c.status != domain.DISCARDED


def scope_condition(scope: RunScope, table=s):
    """The rows of the scope's run, and the earlier decisions it carried over.

    Named by run id, never by "an earlier run of the date": a list of one run then reads
    that run's rows from the (run_id, ...) indexes, however many runs are kept."""
    own = table.c.run_id == scope.run_id
    if not scope.earlier:
        return own
    return or_(own, and_(table.c.run_id.in_(scope.earlier), table.c.status.in_(scope.decided)))


def filter_conditions(where: SuggestionFilter) -> list:
    """The filter as WHERE conditions on the suggestions joined to items and locations."""
    out = [LISTED]
    if where.scope:
        out.append(scope_condition(where.scope))
    # Of the items with this value: found through the items' own index, then the run's row of
    # each, rather than the whole item table hashed against the run.
    exact = ((i.c.category, where.category), (i.c.sku, where.sku), (i.c.size, where.size))
    out += [s.c.item_id.in_(select(i.c.id).where(column == value))
            for column, value in exact if value is not None]
    if where.supplier is not None:
        out.append(s.c.id.in_(_ordered_from(where.supplier, where.scope)))
    if where.location is not None:
        out.append(_at_location(where.location))
    if where.statuses:
        out.append(s.c.status.in_(where.statuses))
    out += _quantity_conditions(where)
    if where.ids:
        out.append(s.c.id.in_(where.ids))
    if where.search:
        out.append(_starts_with(where.search))
    return out


def _ordered_from(supplier: str, scope: RunScope | None):
    """The ids of the rows whose supplier (SUPPLIER) is this one, in two arms each read from
    an index: decided rows that kept it ((run_id, supplier, id)), and the others' items
    (items by supplier, then each one's row of the run). The coalesce of the two columns
    served by no index hashed the whole item table against the run."""
    kept, rest = s.alias("kept"), s.alias("following")
    decided = select(kept.c.id).where(kept.c.supplier == supplier)
    following = select(rest.c.id).where(
        rest.c.supplier.is_(None),
        AmongIds(rest.c.item_id, select(i.c.id).where(i.c.supplier == supplier)))
    if scope is not None:
        decided = decided.where(scope_condition(scope, kept))
        following = following.where(scope_condition(scope, rest))
    return union_all(decided, following)


# A page longer than this reads every matching row (the table's export), not a screenful: a
# page of 100 finds its rows walking the run in order, the export its decided rows' items.
WHOLE = 1_000


def _items_of_decided(where: SuggestionFilter) -> list:
    """For every decided row of a run (a few in a hundred of it): their items, looked up
    by id. Joined as is, PostgreSQL hashed the whole item table (100,000 rows, 73 ms) for
    the 4,000 approved rows of a run; a list of every proposed row must not build that
    array, so other statuses join as before. Only with no other filter on the items: beside
    the supplier's own arrays PostgreSQL took the array for 10 rows and re-read the supplier's
    rows for each of the 4,000 (9 s)."""
    narrowed = (where.supplier, where.category, where.sku, where.size, where.search, where.ids)
    if (where.scope is None or not where.statuses or any(narrowed)
            or not set(where.statuses) <= set(domain.DECIDED)):
        return []
    decided = s.alias("decided")
    return [AmongIds(i.c.id, select(decided.c.item_id).where(
        scope_condition(where.scope, decided), decided.c.status.in_(where.statuses)))]


def _quantity_conditions(where: SuggestionFilter) -> list:
    at_least = ((s.c.suggested_qty, where.min_quantity), (s.c.value, where.min_value),
                (func.abs(CHANGE), where.min_change))
    out = [column >= value for column, value in at_least if value is not None]
    if where.changed is True:
        out.append(or_(s.c.previous_qty.is_(None), s.c.previous_qty != s.c.suggested_qty))
    elif where.changed is False:
        out.append(s.c.previous_qty == s.c.suggested_qty)
    return out


def _at_location(code: str):
    """At the location with this code, whatever the case and surrounding blanks: planners
    type `wh1` for WH1, and an exact match answered an empty list for a location full of
    suggestions."""
    wanted = select(loc.c.id).where(func.lower(loc.c.code) == code.strip().lower())
    return s.c.location_id.in_(wanted)


def _needs_items(where: SuggestionFilter) -> bool:
    """Whether the filter reads the items' columns (a count can skip the join otherwise)."""
    return where.search is not None


def _starts_with(text: str):
    """SKU or description starting with the text, whatever the case (a typed % or _ is
    just a character)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped + "%"
    return or_(func.lower(i.c.sku).like(pattern, escape="\\"),
               func.lower(i.c.description).like(pattern, escape="\\"))


def sort_keys(order: list[tuple[str, bool]]) -> list[keyset.Key]:
    """The list's order: the sort columns, then the id (a stable order, so pages neither
    repeat nor skip)."""
    return [keyset.Key(name, COLUMNS[name], descending, name in NULLABLE)
            for name, descending in order] + [keyset.Key("id", s.c.id)]


def _page_query(where: SuggestionFilter, columns: list, *, order: list[tuple[str, bool]],
                offset: int, limit: int, after: list | None = None, join=None):
    keys = sort_keys(order)
    query = _joined(*columns)
    if join is not None:
        query = query.join(*join)
    query = query.where(
        *filter_conditions(where), *(_items_of_decided(where) if limit > WHOLE else ()))
    if after is not None:
        query = query.where(keyset.after(keys, after))
    return query.order_by(*keyset.ordering(keys)).offset(offset).limit(limit)


def _in_utc(row: tuple, positions: list[int]) -> tuple:
    values = list(row)
    for at in positions:
        values[at] = Timestamp.process_result_value(values[at], None)
    return tuple(values)


def _approved_of(scope: RunScope, table=s) -> list:
    """The approved lines of the scope's run (and of the earlier runs it carried over)."""
    runs = (scope.run_id, *scope.earlier)
    return [table.c.run_id == runs[0] if len(runs) == 1 else table.c.run_id.in_(runs),
            table.c.status == domain.APPROVED]


def _joined(*columns):
    return (select(*columns).select_from(s)
            .join(i, i.c.id == s.c.item_id).join(loc, loc.c.id == s.c.location_id))


class SuggestionRepository(Repository):
    def latest_run(self) -> dict | None:
        """What planners review and the ERP exports by default: the run that finished well for
        the newest as-of date (the latest of those if it was re-run). A backfill for an
        earlier date, started later, must not hide the current plan; a discarded run never
        counts."""
        row = self.connection.execute(
            select(forecast_runs.c.id, forecast_runs.c.as_of)
            .where(forecast_runs.c.status == "succeeded", forecast_runs.c.discarded_at.is_(None))
            .order_by(forecast_runs.c.as_of.desc(), forecast_runs.c.id.desc()).limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def run(self, run_id: int) -> dict | None:
        row = self.connection.execute(
            select(forecast_runs.c.id, forecast_runs.c.as_of, forecast_runs.c.status)
            .where(forecast_runs.c.id == run_id)
        ).first()
        return dict(row._mapping) if row else None

    def earlier_runs_of_day(self, run_id: int, as_of) -> tuple[int, ...]:
        """Runs of the same as-of date before this one: a re-run carries their decisions."""
        return tuple(self.connection.scalars(
            select(forecast_runs.c.id).where(forecast_runs.c.as_of == as_of,
                                             forecast_runs.c.id < run_id)
            .order_by(forecast_runs.c.id)))

    def page(self, where: SuggestionFilter, *, order: list[tuple[str, bool]], offset: int,
             limit: int, after: list | None = None,
             names: Sequence[str] | None = None) -> list[dict]:
        """A page of the list: from `offset`, or after the row whose key values `after`
        holds (a cursor: read through the ordering's index, as fast deep in the list as on
        its first page). Each row has every column of COLUMNS and EXTRA, or only `names`
        (an export of thousands of rows reads what its cells need)."""
        readable = COLUMNS | EXTRA
        chosen = readable if names is None else {n: readable[n] for n in names}
        query = _page_query(where, [c.label(n) for n, c in chosen.items()], order=order,
                            offset=offset, limit=limit, after=after)
        result = self.connection.execute(query)
        names = list(result.keys())
        # One fetch and plain dicts by position: an export reads thousands of rows this way.
        return [dict(zip(names, r, strict=True)) for r in result.all()]

    def table_values(self, where: SuggestionFilter, *, order: list[tuple[str, bool]],
                     limit: int, names: Sequence[str], terms: Sequence[str]) -> list[tuple]:
        """Every row of the list up to `limit` as tuples of `names` (as `page` reads them;
        not "terms"), then the `terms` named, each as its JSON text (None where absent):
        PostgreSQL only. The table's export of thousands of rows, through the driver's own
        cursor: decoding every term and SQLAlchemy's handling of each row were much of its
        time."""
        readable = COLUMNS | EXTRA
        chosen = [readable[n].label(n) for n in names]
        join = None
        if terms:
            # The terms parsed once per row by the database, the ones asked for kept as text.
            record = func.json_to_record(s.c.terms).table_valued(
                *(column(term, JSON) for term in terms)).render_derived("t", with_types=True)
            chosen += [cast(record.c[term], Text).label(f"term_{term}") for term in terms]
            join = (record, true())
        query = _page_query(where, chosen, order=order, offset=0, limit=limit, join=join)
        compiled = query.compile(dialect=self.connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
        cursor = self.connection.connection.driver_connection.cursor()
        try:
            cursor.execute(str(compiled), compiled.params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        # Instants as every other read gives them (UtcTimestamp), the only typed column.
        at = [i for i, n in enumerate(names) if isinstance(readable[n].type, UtcTimestamp)]
        if at:
            rows = [_in_utc(row, at) for row in rows]
        return rows

    def count_up_to(self, where: SuggestionFilter, cap: int) -> tuple[int, bool]:
        """How many match, counting no further than `cap`: (count, whether it is exact).
        A count stops being worth its cost long before a run's 100,000 rows."""
        conditions = filter_conditions(where)
        matching = (_joined(s.c.id) if _needs_items(where) else select(s.c.id)).where(
            *conditions).limit(cap + 1).subquery()
        found = self.connection.scalar(select(func.count()).select_from(matching)) or 0
        return min(found, cap), found <= cap

    def neighbours(self, where: SuggestionFilter, *, order: list[tuple[str, bool]],
                   suggestion_id: int, cap: int) -> dict:
        """The ids just before and after a suggestion in the list, and its position when
        fewer than `cap` come before it; all None when it is not in the list."""
        keys = sort_keys(order)
        conditions = filter_conditions(where)
        here = self.connection.execute(
            _joined(*(k.expr.label(k.name) for k in keys)).where(
                *conditions, s.c.id == suggestion_id)).first()
        if here is None:
            return {"previous": None, "next": None, "position": None}
        values = list(here)

        def first(reverse: bool):
            return self.connection.scalar(
                _joined(s.c.id).where(*conditions, keyset.after(keys, values, reverse=reverse))
                .order_by(*keyset.ordering(keys, reverse=reverse)).limit(1))

        before = _joined(s.c.id).where(
            *conditions, keyset.after(keys, values, reverse=True)).limit(cap).subquery()
        ahead = self.connection.scalar(select(func.count()).select_from(before)) or 0
        return {"previous": first(True), "next": first(False),
                "position": ahead + 1 if ahead < cap else None}

    def pending_units(self, where: SuggestionFilter, pending: tuple[str, ...]) -> dict:
        """How many waiting lines and units a bulk decision on the filter would touch."""
        wanted = func.coalesce(s.c.approved_qty, s.c.suggested_qty)
        row = self.connection.execute(
            _joined(func.count(), func.coalesce(func.sum(wanted), 0))
            .where(*filter_conditions(where), s.c.status.in_(pending))).one()
        return {"lines": int(row[0]), "units": int(row[1])}

    def reopenable(self, where: SuggestionFilter, decided: tuple[str, ...]) -> list[dict]:
        """Matching decided suggestions the export has not served yet, locked to reopen."""
        query = _joined(*(c.label(n) for n, c in COLUMNS.items())).where(
            *filter_conditions(where), s.c.status.in_(decided), s.c.exported_at.is_(None),
        ).order_by(s.c.id)
        return [dict(r._mapping) for r in self.connection.execute(query.with_for_update(of=s))]

    def reopen_many(self, rows: list[dict]) -> int:
        """Back to proposed, only where nobody changed the row and no export served it."""
        if not rows:
            return 0
        result = self.connection.execute(
            s.update().where(s.c.id == bindparam("sid"), s.c.version == bindparam("seen"),
                             DECIDABLE, s.c.exported_at.is_(None))
            .values(status="proposed", approved_qty=None, case_pack=None, supplier=None,
                    decided_by=None, decided_at=None, comment=None, version=s.c.version + 1,
                    **NO_EXPORT_PLACE),
            [{"sid": r["id"], "seen": r["version"]} for r in rows])
        return result.rowcount

    def mark_exported(self, suggestion_ids: list[int]) -> None:
        """The export served these approvals: the ERP may act on them from now on."""
        if not suggestion_ids:
            return
        # One array parameter on PostgreSQL: thousands of IN parameters took a second to bind.
        wanted = (s.c.id == any_(bindparam("ids", suggestion_ids, type_=ARRAY(BigInteger)))
                  if self.is_postgres else s.c.id.in_(suggestion_ids))
        self.connection.execute(
            s.update().where(wanted, s.c.exported_at.is_(None)).values(exported_at=utcnow()))

    def one(self, suggestion_id: int, *, for_update: bool = False) -> dict | None:
        query = _joined(*(c.label(n) for n, c in (COLUMNS | EXTRA).items()), s.c.item_id,
                        s.c.explanation, loc.c.id.label("location_id"))
        query = query.where(s.c.id == suggestion_id)
        if for_update:
            query = query.with_for_update(of=s)
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def pending(self, where: SuggestionFilter, pending: tuple[str, ...]) -> list[dict]:
        """Matching suggestions still waiting for a planner, locked for the decision."""
        query = _joined(*(c.label(n) for n, c in COLUMNS.items())).where(
            *filter_conditions(where), s.c.status.in_(pending)).order_by(s.c.id)
        return [dict(r._mapping) for r in self.connection.execute(query.with_for_update(of=s))]

    def count(self, where: SuggestionFilter) -> int:
        return self.connection.scalar(_joined(func.count()).where(*filter_conditions(where))) or 0

    def forecast(self, run_id: int, item_id: int) -> dict | None:
        row = self.connection.execute(
            select(series_forecasts).where(series_forecasts.c.run_id == run_id,
                                           series_forecasts.c.item_id == item_id)
        ).first()
        return dict(row._mapping) if row else None

    def weekly_sales(self, item_id: int, first_week: int, last_week: int) -> dict[int, int]:
        """{week index: units} of one item, summed per week in the database."""
        week = PlanningRepository(self.connection)._week(sales_lines.c.sold_on).label("week")
        inner = select(week, sales_lines.c.quantity).where(
            sales_lines.c.item_id == item_id,
            sales_lines.c.sold_on >= monday_of(first_week),
            sales_lines.c.sold_on < monday_of(last_week + 1),
        ).subquery()
        rows = self.connection.execute(
            select(inner.c.week, func.sum(inner.c.quantity)).group_by(inner.c.week))
        return {int(w): int(units or 0) for w, units in rows}

    def decisions(self, suggestion_id: int) -> list[dict]:
        rows = self.connection.execute(
            select(suggestion_decisions).where(
                suggestion_decisions.c.suggestion_id == suggestion_id
            ).order_by(suggestion_decisions.c.id)
        )
        return [{**r._mapping, "created_at": r.created_at} for r in rows]

    def decide(self, suggestion_id: int, *, seen_version: int, status: str,
               approved_qty: int | None, actor: str, comment: str | None,
               case_pack: int | None = None, supplier: str | None = None,
               at=None) -> bool:
        """Apply a decision only if nobody else decided, and no run superseded the suggestion,
        since `seen_version` was read."""
        place = (export_place(supplier, approved_qty, case_pack) if status == domain.APPROVED
                 else NO_EXPORT_PLACE)
        updated = self.connection.execute(
            s.update().where(s.c.id == suggestion_id, s.c.version == seen_version, DECIDABLE)
            .values(status=status, approved_qty=approved_qty, case_pack=case_pack,
                    supplier=supplier, decided_by=actor, decided_at=at or utcnow(),
                    comment=comment, version=s.c.version + 1, **place)
        )
        return updated.rowcount == 1

    def decide_many(self, decisions: list[dict], *, actor: str, comment: str | None) -> None:
        """Apply many decisions in one statement; the rows were locked by `pending`."""
        now = utcnow()
        for approving in (True, False):  # the approvals also take their place in the export
            chosen = [d for d in decisions if (d["status"] == domain.APPROVED) == approving]
            if not chosen:
                continue
            place = ({**{name: bindparam(f"place_{name}") for name in _KEPT}, **_ROW_PLACE}
                     if approving else NO_EXPORT_PLACE)
            self.connection.execute(
                s.update().where(s.c.id == bindparam("sid"), s.c.version == bindparam("seen"),
                                 DECIDABLE)
                .values(status=bindparam("new_status"), approved_qty=bindparam("qty"),
                        case_pack=bindparam("pack"), supplier=bindparam("ordered_from"),
                        decided_by=actor, decided_at=now, comment=comment,
                        version=s.c.version + 1, **place),
                [{"sid": d["id"], "seen": d["version"], "new_status": d["status"],
                  "qty": d["approved_qty"], "pack": d["case_pack"],
                  "ordered_from": d["supplier"],
                  **({f"place_{name}": value for name, value in _kept_place(
                      d["supplier"], d["approved_qty"], d["case_pack"]).items()}
                     if approving else {})}
                 for d in chosen],
            )

    def add_decisions(self, rows: list[dict]) -> None:
        if rows:
            now = utcnow()
            self.connection.execute(suggestion_decisions.insert(),
                                    [{"created_at": now, **r} for r in rows])

    def approved_lines(self, scope: RunScope, *, limit: int | None = None,
                       after: list | None = None) -> list:
        """Approved order lines of a run, in supplier, location, sku, size order: `limit`
        of them after the line whose export key values (supplier key, location, SKU, size,
        id) `after` holds: one range of the run's export index (the key is kept on the row
        at approval), however long the plan. Plain rows (named tuples), in this column order
        (order_export.csv_lines unpacks them by position)."""
        key = [s.c.export_supplier, s.c.export_location, s.c.export_sku, s.c.export_size, s.c.id]
        if self.is_postgres:
            # A page walks at most a few thousand index entries: PostgreSQL planned a parallel
            # worker for a page of 1,000, which took 17-25 ms against 10-12 ms without, and
            # more on a busy machine.
            self.connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        # The names shown are the item's and location's own (the same as the key's: the
        # catalogue never renames a SKU, size or code), the page's few looked up by id.
        query = _joined(
            s.c.id.label("suggestion_id"), SHOWN_SUPPLIER.label("supplier"),
            s.c.export_supplier.label("supplier_key"), loc.c.code.label("location"), i.c.sku,
            i.c.size, i.c.category, s.c.approved_qty.label("quantity"),
            CASE_PACK.label("case_pack"), s.c.unit_cost, s.c.exported_at,
            s.c.export_location.label("location_key"), s.c.export_sku.label("sku_key"),
            s.c.export_size.label("size_key"),
        ).where(*_approved_of(scope))
        if limit is None:
            # The whole plan: its items looked up by id. Joined as is, PostgreSQL hashed the
            # whole item table (100,000 rows, 44 ms) for 4,000 lines; a page walks the index
            # and looks up its own few.
            approved = s.alias("approved")
            query = query.where(AmongIds(i.c.id, select(approved.c.item_id).where(
                *_approved_of(scope, approved))))
        if after is not None:
            # One row comparison: PostgreSQL starts the index scan at the cursor.
            query = query.where(tuple_(*key) > tuple_(*after))
        query = query.order_by(*key)
        if limit is not None:
            query = query.limit(limit)
        return self.connection.execute(query).all()  # one fetch, not a call per row

    def order_sums(self, scope: RunScope, first: tuple[str, str],
                   last: tuple[str, str]) -> dict[tuple[str, str], tuple]:
        """{(supplier key, location): (units, cases, value)} of every approved line of the
        orders from `first` to `last` in the export's order (those of one page): the
        stretch of the export index they cover, however their lines fall over pages."""
        order = tuple_(s.c.export_supplier, s.c.export_location)
        rows = self.connection.execute(
            select(s.c.export_supplier, s.c.export_location, func.sum(s.c.approved_qty),
                   func.sum(s.c.export_cases),
                   func.sum(s.c.unit_cost * s.c.approved_qty, type_=Money))
            .where(*_approved_of(scope), order >= tuple_(*first), order <= tuple_(*last))
            .group_by(s.c.export_supplier, s.c.export_location))
        return {(supplier, location): (units, cases, value)
                for supplier, location, units, cases, value in rows}
