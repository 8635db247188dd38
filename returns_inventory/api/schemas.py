"""Request and response schemas shared by the resources; they also generate the OpenAPI doc."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..domain.stock import Condition

CONDITIONS = [c.value for c in Condition]


class StrictSchema(Schema):
    class Meta:
        ordered = True


class PageArgs(StrictSchema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10_000))


class PageInfo(StrictSchema):
    offset = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()


class CursorInfo(StrictSchema):
    next_cursor = fields.Integer(allow_none=True, metadata={"description": "pass as `after`"})
    limit = fields.Integer()


def page_limit(args: dict, settings) -> int:
    return min(args.get("limit") or settings.page_size_default, settings.page_size_max)


class FieldErrorOut(StrictSchema):
    field = fields.String(metadata={"description": "the field at fault (dotted path, or column)"})
    reason = fields.String()
    row = fields.Integer(metadata={"description": "imports only: 1-based data row"})


class ProblemSchema(StrictSchema):
    """RFC 9457 problem document: the one shape of every 4xx and 5xx answer."""

    type = fields.String(metadata={"description": "URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(
        fields.Nested(FieldErrorOut), metadata={"description": "validation only"}
    )
