"""The suggestions table's filters, sorting and paging, read from the query string or a form.

The filters are checked by the API's own schema, so the page and the API accept and refuse
the same values, and the same dict feeds the list and the bulk decision of the filtered set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from ..domain.errors import FieldError, ValidationFailed
from ..http.suggestion_filter import SuggestionFilterIn
from .forms import page_number, whole_number

PAGE_SIZE = 50
FILTER_FIELDS = ("run", "search", "status", "category", "supplier", "sku", "location",
                 "min_quantity", "min_value", "changed")
FIELD_WORDS = {
    "run": "Run", "search": "Search", "supplier": "Supplier", "status": "Status",
    "category": "Category", "sku": "SKU",
    "location": "Location", "min_quantity": "Minimum quantity", "min_value": "Minimum value",
    "changed": "Changed since last run",
}
DEFAULT_SORT = "-value"
# What else a link to the table may carry besides its filters.
TABLE_ARGS = ("sort", "page")


@dataclass
class TableState:
    """What the planner asked the table for: filters as typed, and as the service wants them."""

    typed: MultiDict = field(default_factory=MultiDict)  # to fill the form back in
    filters: dict = field(default_factory=dict)
    sort: str = DEFAULT_SORT
    page: int = 1

    def query(self, **changes) -> dict:
        """Query arguments for a link to this table with some of them changed."""
        args = {k: self.typed.getlist(k) for k in FILTER_FIELDS if self.typed.getlist(k)}
        args.update(sort=self.sort, page=self.page)
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "", [])}

    def sort_link(self, column: str) -> str:
        """The sort after clicking this heading: ascending first, then flip."""
        return f"-{column}" if self.sort == column else column

    def sorted_by(self, column: str) -> str | None:
        if self.sort == column:
            return "ascending"
        if self.sort == f"-{column}":
            return "descending"
        return None


def typed_filters(values: MultiDict) -> MultiDict:
    """The filters as the planner typed them, blanks dropped."""
    typed = MultiDict()
    for name in FILTER_FIELDS:
        for value in values.getlist(name):
            if value.strip():
                typed.add(name, value.strip())
    return typed


def read_table_state(values: MultiDict, *, strict: bool = False) -> TableState:
    """Filters, sort and page from request values; bad values are refused in words, and so,
    when `strict` (a link or bookmark to the table), are names that are no filter: showing
    every suggestion for `?suplier=ACME` would look like ACME's and be the whole plan."""
    if strict:
        _refuse_unknown(values)
    typed = typed_filters(values)
    raw = {k: v for k, v in typed.items() if k != "status"}
    if typed.getlist("status"):
        raw["status"] = ",".join(typed.getlist("status"))
    if raw.get("changed") in ("on", "yes"):
        raw["changed"] = "true"
    try:
        filters = SuggestionFilterIn().load(raw)
    except ValidationError as exc:
        raise _in_words(exc.messages) from exc
    sort = values.get("sort", DEFAULT_SORT).strip() or DEFAULT_SORT
    return TableState(typed, filters, sort, page_number(values.get("page")))


def selected_ids(values: MultiDict) -> list[int]:
    """The ticked rows of the bulk form."""
    numbers = [whole_number(v) for v in values.getlist("ids")]
    if None in numbers:
        raise ValidationFailed("The selection was not understood; reload the page.")
    ids = sorted(set(numbers))
    if not ids:
        raise ValidationFailed("Tick at least one row first, or decide on all matching rows.",
                               errors=[FieldError("ids", "none ticked")])
    return ids


def _refuse_unknown(values: MultiDict) -> None:
    unknown = sorted(name for name in values if name not in (*FILTER_FIELDS, *TABLE_ARGS))
    if unknown:
        names = ", ".join(f"“{name}”" for name in unknown)
        known = ", ".join(FILTER_FIELDS)
        raise ValidationFailed(
            f"Check the filters. There is no filter {names} (the link may be old or "
            f"mistyped); nothing is listed rather than every suggestion. The filters are: "
            f"{known}.", errors=[FieldError(name, "unknown filter") for name in unknown])


def _in_words(messages: dict) -> ValidationFailed:
    parts = []
    for name, problems in messages.items():
        text = problems if isinstance(problems, str) else "; ".join(_flat(problems))
        parts.append(f"{FIELD_WORDS.get(name, name)}: {text}")
    return ValidationFailed("Check the filters. " + " ".join(parts),
                            errors=[FieldError(name, "invalid") for name in messages])


def _flat(problems) -> list[str]:
    if isinstance(problems, dict):
        return [p for v in problems.values() for p in _flat(v)]
    if isinstance(problems, list):
        return [p for v in problems for p in _flat(v)]
    return [str(problems)]

