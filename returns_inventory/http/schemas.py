"""Request and response schemas shared by the resources; they also generate the OpenAPI doc."""

from __future__ import annotations

from datetime import date

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ..domain.stock import Condition

CONDITIONS = [c.value for c in Condition]


class Int64(fields.Integer):
    """An id or cursor in a table with 64-bit keys (ledger movements, outbox events)."""


# Quantities and most ids are 32-bit columns: a larger number would fail in the database (a
# 500, and on SQLite an overflow past 64 bits) instead of being refused with its field named.
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


# Dates a retail service can mean; arithmetic a day or a window past either end of Python's
# calendar (year 1, year 9999) would fail as a server error instead.
DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))
DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-"  # the same years, as the OpenAPI document states them


def bounds_of(field: fields.Field) -> tuple[int, int] | None:
    """The range a whole-number field is held to, or None when it takes any size."""
    if not isinstance(field, fields.Integer) or not getattr(field, "bounded", True):
        return None
    return _INT64 if isinstance(field, Int64) else _INT32


def _out_of_range(field: fields.Field, value) -> bool:
    if isinstance(field, fields.List):
        return isinstance(value, list) and any(_out_of_range(field.inner, v) for v in value)
    if isinstance(field, fields.Date) and isinstance(value, date):
        return not DATE_RANGE[0] <= value <= DATE_RANGE[1]
    bounds = bounds_of(field)
    if bounds is None or not isinstance(value, int):
        return False
    return not bounds[0] <= value <= bounds[1]


def _not_whole(field: fields.Field, value) -> bool:
    """A JSON 1.5 or true where a whole number belongs: marshmallow would take int() of it."""
    if isinstance(field, fields.List):
        return isinstance(value, list) and any(_not_whole(field.inner, v) for v in value)
    if not isinstance(field, fields.Integer):
        return False
    return isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())


def _not_boolean(field: fields.Field, value) -> bool:
    """A JSON 0 or 1 where true or false belongs: marshmallow would read it as a boolean.
    (Text such as "true" stays accepted: query strings and web forms only have text.)"""
    return isinstance(field, fields.Boolean) and isinstance(value, int | float) \
        and not isinstance(value, bool)


class StrictSchema(Schema):
    class Meta:
        ordered = True

    @validates_schema(pass_original=True)
    def _numbers_whole_and_values_in_range(self, data, original, **kwargs) -> None:
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if isinstance(original, dict) and _not_whole(field, original.get(key)):
                errors[key] = ["Not a whole number."]
            elif isinstance(original, dict) and _not_boolean(field, original.get(key)):
                errors[key] = ["Not a boolean: send true or false."]
            elif name in data and _out_of_range(field, data[name]):
                errors[key] = [f"Date must be between {DATE_RANGE[0]} and {DATE_RANGE[1]}."
                               if isinstance(field, fields.Date) else "Number is out of range."]
        if errors:
            raise ValidationError(errors)


class PageSize(fields.Integer):
    """A page's `limit`. One rule on every list: at least 1, and a larger limit than the list
    serves is served as its maximum, which the answer's `page.limit` reports. `at_most` is a
    list's fixed maximum; lists sized by RI_PAGE_SIZE_MAX are capped by `page_limit`."""

    # Any larger limit is served as the maximum, so no size is out of range (not even 2**64).
    bounded = False

    def __init__(self, *, at_most: int | None = None, **kwargs):
        most = f"{at_most:,}" if at_most else "RI_PAGE_SIZE_MAX"
        kwargs.setdefault("metadata", {"description": (
            f"rows per page; a larger limit is served as the maximum ({most}), which "
            "page.limit reports")})
        super().__init__(validate=validate.Range(min=1), **kwargs)
        self.at_most = at_most

    def _deserialize(self, value, attr, data, **kwargs):
        size = super()._deserialize(value, attr, data, **kwargs)
        return min(size, self.at_most) if self.at_most else size


class PageArgs(StrictSchema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = PageSize(load_default=None)


class PageInfo(StrictSchema):
    offset = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()


class CursorInfo(StrictSchema):
    next_cursor = Int64(allow_none=True, metadata={"description": "pass as `after`"})
    limit = fields.Integer()


def page_limit(args: dict, settings) -> int:
    return min(args.get("limit") or settings.page_size_default, settings.page_size_max)


def page_count(total: int, size: int) -> int:
    """Pages of ``size`` rows that ``total`` rows fill; an empty list is one (empty) page."""
    return max(1, -(-total // size))


def page_offset(page: int, size: int) -> int:
    """The first row of page ``page`` (counted from 1)."""
    return (page - 1) * size


class FieldErrorOut(StrictSchema):
    field = fields.String(metadata={"description": "the field at fault (dotted path, or column)"})
    reason = fields.String()
    row = fields.Integer(metadata={"description": "imports only: 1-based data row"})


class ProblemSchema(StrictSchema):
    """RFC 9457 problem document: the one shape of every 4xx and 5xx answer.

    Problems may carry extension members (RFC 9457 section 3.2), e.g. `unit_status` on a 409
    or `error_count` on an import's 422, so the document allows members not listed here."""

    class Meta(StrictSchema.Meta):
        unknown = INCLUDE

    type = fields.String(metadata={"description": "URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(
        fields.Nested(FieldErrorOut), metadata={"description": "validation only"}
    )
    request_id = fields.String(
        metadata={"description": "this request's `X-Request-Id`, to quote when asking about it"}
    )


def cursor_page(rows: list[dict], limit: int) -> dict:
    """A full page may have more after it: its last id is the cursor; a short page is the end."""
    cursor = rows[-1]["id"] if len(rows) == limit else None
    return {"data": rows, "page": {"next_cursor": cursor, "limit": limit}}
