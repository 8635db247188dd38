"""The planners' review of replenishment suggestions: the list, one suggestion, the export."""

from __future__ import annotations

from typing import Any

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.replenishment import DECIDED, TERM_MEANINGS
from ..domain.suggestion_figures import FIGURE_TERMS
from ..domain.suggestion_filters import SORTABLE, RunScope, SuggestionFilter
from ..domain.weeks import monday_of, week_of
from ..persistence.repositories import keyset
from ..persistence.repositories.suggestions import sort_keys
from ..persistence.uow import UnitOfWork, UowFactory
from .planning_inputs import last_complete_week
from .policies import Policies
from .suggestion_alerts import listed_alerts

HISTORY_WEEKS = 52
FILTERS = ("category", "sku", "size", "location", "supplier", "min_quantity", "min_value",
           "changed", "min_change", "search")
SPELLED = ("sku", "category", "supplier")
SUMMARY_FIELDS = ("id", "run_id", "as_of", "status", "sku", "size", "category", "supplier",
                  "location", "suggested_qty", "return_blind_qty", "saved_by_returns",
                  "approved_qty", "previous_qty", "change", "case_pack", "unit_cost", "value",
                  "version", "decided_by", "decided_at", "comment")


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    """`-value,sku` -> [("value", descending), ("sku", ascending)]."""
    order = []
    for part in (text or "").split(","):
        name = part.strip()
        if not name:
            continue
        descending = name.startswith("-")
        name = name.lstrip("+-")
        if name not in SORTABLE:
            raise ValidationFailed(f"cannot sort by {name!r}", errors=[
                FieldError("sort", "one of " + ", ".join(SORTABLE))])
        order.append((name, descending))
    return order


def run_scope(uow: UnitOfWork, run_id: int | None) -> RunScope | None:
    """The run asked for, or the latest successful one; None before any run succeeded."""
    run = uow.suggestions.run(run_id) if run_id else uow.suggestions.latest_run()
    if run_id and run is None:
        raise NotFound(f"no forecast run {run_id}")
    if run is None:
        return None
    earlier = uow.suggestions.earlier_runs_of_day(run["id"], run["as_of"])
    return RunScope(run["id"], run["as_of"], DECIDED, earlier)


def suggestion_filter(uow: UnitOfWork, args: dict[str, Any]) -> SuggestionFilter | None:
    """The filter of the list (and of bulk decisions); None when there is nothing to match."""
    ids = tuple(args.get("ids") or ())
    # Explicit ids mean those suggestions, whichever run they belong to.
    scope = run_scope(uow, args.get("run")) if args.get("run") or not ids else None
    if scope is None and not ids:
        return None
    values = {k: args.get(k) for k in FILTERS}
    for name in SPELLED:
        typed = values[name]
        if typed:  # people type "tee-blk" or "Tops"; the filter matches exactly
            values[name] = uow.catalogue.spelling(name, str(typed))
    return SuggestionFilter(
        scope=scope, statuses=tuple(args.get("status") or ()), ids=ids, **values,
    )


# Lists count their matches this far, and say "1000+" beyond: a count of every row of a
# 100,000-line run costs more than the page it is shown on.
COUNT_CAP = 1_000


def list_suggestions(uow_factory: UowFactory, args: dict[str, Any], *, offset: int,
                     limit: int, policies: Policies | None = None,
                     after: str | None = None) -> dict:
    """One page of a run's suggestions, filtered and sorted, with how many matched (exact
    up to COUNT_CAP) and the cursor of the next page (and, given the policies, each marked
    with its quality alerts). A page `after` a cursor is read through the ordering's index,
    as fast at the end of a run as at its start."""
    order = parse_sort(args.get("sort"))
    keys = [name for name, _ in order] + ["id"]
    start = _cursor_values(after, args.get("sort"), order) if after else None
    with uow_factory() as uow:
        where = suggestion_filter(uow, args)
        rows, total, exact = [], 0, True
        if where is not None:
            rows = uow.suggestions.page(where, order=order, offset=offset, limit=limit + 1,
                                        after=start)
            total, exact = uow.suggestions.count_up_to(where, COUNT_CAP)
        more, rows = len(rows) > limit, rows[:limit]
        alerts_as_of = None
        if policies is not None and rows:
            alerts = listed_alerts(uow, policies, policies.returns.today())
            rows, alerts_as_of = alerts.mark(rows), alerts.as_of
    scope = where.scope if where else None
    run = {"id": scope.run_id, "as_of": scope.as_of} if scope else None
    cursor = (keyset.encode(_sort_text(args.get("sort")), [rows[-1][k] for k in keys])
              if more else None)
    return {"run": run, "data": rows, "quality_alerts_as_of": alerts_as_of,
            "page": {"offset": offset, "limit": limit, "total": total, "total_exact": exact,
                     "next_cursor": cursor}}


def table_rows(uow_factory: UowFactory, args: dict[str, Any], *, limit: int,
               names: list[str]) -> dict:
    """Every row of the filtered, sorted list up to `limit` (an export of the table), with
    only the columns `names`: no count, no cursor, no alerts. Of the terms (when `names`
    has them), only those decision_figures reads."""
    order = parse_sort(args.get("sort"))
    with uow_factory() as uow:
        where = suggestion_filter(uow, args)
        if where is None:
            rows = []
        elif uow.suggestions.is_postgres:
            rows = _figure_rows(uow, where, order, limit, names)
        else:
            rows = uow.suggestions.page(where, order=order, offset=0, limit=limit, names=names)
    scope = where.scope if where else None
    return {"run": {"id": scope.run_id, "as_of": scope.as_of} if scope else None,
            "data": rows}


def _figure_rows(uow: UnitOfWork, where: SuggestionFilter, order: list[tuple[str, bool]],
                 limit: int, names: list[str]) -> list[dict]:
    """The rows as `page` gives them, but their terms are only FIGURE_TERMS, each decoded
    from its own JSON text: a 4,000-row export spent a fifth of its time decoding terms no
    cell shows."""
    terms = FIGURE_TERMS if "terms" in names else ()
    plain = [n for n in names if n != "terms"]
    rows = uow.suggestions.table_values(where, order=order, limit=limit, names=plain,
                                        terms=terms)
    width = len(plain)
    if not terms:
        return [dict(zip(plain, row, strict=True)) for row in rows]
    return [{**dict(zip(plain, row[:width], strict=True)),
             "terms": {t: json_number(v) for t, v in zip(terms, row[width:], strict=True)}}
            for row in rows]


def json_number(text: str | None) -> float | None:
    """A term's JSON text as decision_figures reads the decoded term: a number as a float,
    anything else (text, true/false, null, absent) as None."""
    if text is None:
        return None
    if text == "-0":  # json's -0 is the integer 0
        return 0.0
    try:
        return float(text)  # a JSON string keeps its quotes; true, false and null are words
    except ValueError:
        return None


def _sort_text(sort: str | None) -> str:
    return ",".join(part.strip() for part in (sort or "").split(",") if part.strip())


def _cursor_values(cursor: str, sort: str | None, order: list[tuple[str, bool]]) -> list:
    kinds = [key.kind for key in sort_keys(order)]
    try:
        return keyset.decode(cursor, _sort_text(sort), kinds)
    except ValueError as exc:
        raise ValidationFailed(f"`after` is {exc}: pass a page's next_cursor, with the same "
                               "sort", errors=[FieldError("after", str(exc))]) from exc


def neighbours(uow_factory: UowFactory, args: dict[str, Any], suggestion_id: int) -> dict:
    """The suggestions before and after this one in the filtered, sorted list, and its place
    in it (None past COUNT_CAP); None at either end, or all when it is not in the list."""
    order = parse_sort(args.get("sort"))
    with uow_factory() as uow:
        where = suggestion_filter(uow, args)
        if where is None:
            return {"previous": None, "next": None, "position": None, "total": 0,
                    "total_exact": True}
        around = uow.suggestions.neighbours(where, order=order, suggestion_id=suggestion_id,
                                            cap=COUNT_CAP)
        total, exact = uow.suggestions.count_up_to(where, COUNT_CAP)
    return {**around, "total": total, "total_exact": exact}


def get_suggestion(uow_factory: UowFactory, suggestion_id: int,
                   policies: Policies | None = None) -> dict:
    """One suggestion with what a planner needs to judge it."""
    with uow_factory() as uow:
        row = uow.suggestions.one(suggestion_id)
        if row is None:
            raise NotFound(f"no suggestion {suggestion_id}")
        alerts_as_of = None
        if policies is not None:
            alerts = listed_alerts(uow, policies, policies.returns.today())
            row, alerts_as_of = alerts.mark([row])[0], alerts.as_of
        forecast = uow.suggestions.forecast(row["run_id"], row["item_id"])
        first_future = (week_of(forecast["origin_week"]) if forecast
                        else last_complete_week(row["as_of"]) + 1)
        sold = uow.suggestions.weekly_sales(row["item_id"], first_future - HISTORY_WEEKS,
                                            first_future - 1)
        decisions = uow.suggestions.decisions(suggestion_id)
    history = [{"week": monday_of(w), "units": sold.get(w, 0)}
               for w in range(first_future - HISTORY_WEEKS, first_future)]
    return {
        **summary(row), "description": row["description"],
        "terms_by_name": row["terms"], "lead_time_days": row["lead_time_days"],
        "exported_at": row["exported_at"],
        "forecast": _forecast(forecast, first_future), "history": history,
        "returns": _returns(forecast, first_future),
        "terms": _terms(row["terms"]), "explanation": row["explanation"],
        "pipeline": _pipeline(row["terms"], first_future), "decisions": decisions,
        "quality_alerts_as_of": alerts_as_of,
    }


def summary(row: dict) -> dict:
    out = {k: row[k] for k in SUMMARY_FIELDS}
    if "quality_alert" in row:
        out["quality_alert"] = row["quality_alert"]
    return out


def _forecast(forecast: dict | None, first_week: int) -> dict | None:
    if forecast is None:
        return None
    weeks = [{"week": monday_of(first_week + h), "forecast": point, "lower": low,
              "upper": high}
             for h, (point, low, high) in enumerate(
                 zip(forecast["forecast"], forecast["lower"], forecast["upper"], strict=False))]
    keys = ("method", "why", "level", "demand_class", "interval_level", "explanation")
    return {**{k: forecast[k] for k in keys}, "weeks": weeks}


def _returns(forecast: dict | None, first_week: int) -> dict | None:
    if forecast is None:
        return None
    weekly = [{"week": monday_of(first_week + h), "units": units}
              for h, units in enumerate(forecast["expected_returns"])]
    return {"rate": forecast["return_rate"], "restockable_share": forecast["restockable_share"],
            "lag_median_weeks": forecast["lag_median_weeks"], "expected_per_week": weekly}


def _pipeline(terms: dict, first_week: int) -> dict | None:
    """The known returns pipeline and the target and policy behind the quantity (runs before
    they were kept have none)."""
    if "units_still_out" not in terms:
        return None
    weekly = [{"week": monday_of(first_week + h), "units": units}
              for h, units in enumerate(terms.get("returns_by_week") or [])]
    return {"units_still_out": terms["units_still_out"],
            "expected_back": terms.get("returns_from_past_sales", 0.0), "by_week": weekly,
            "service_target": terms.get("service_target", "cycle"),
            "service_level": terms.get("service_level"),
            "policy": terms.get("policy", "order_up_to"), "order_lot": terms.get("order_lot", 0)}


def _terms(terms: dict) -> list[dict]:
    known = [t for t in TERM_MEANINGS if t in terms]
    extra = [t for t in terms if t not in TERM_MEANINGS and not isinstance(terms[t], list)]
    return [{"term": t, "value": terms[t], "meaning": TERM_MEANINGS.get(t, "")}
            for t in known + extra]
