"""The filter of the suggestion list: the API's query and the planner console's form read
the same fields with the same rules."""

from __future__ import annotations

from marshmallow import fields, validate
from webargs.fields import DelimitedList

from ..domain.replenishment import STATUSES
from .schemas import StrictSchema


class SuggestionFilterIn(StrictSchema):
    run = fields.Integer(validate=validate.Range(min=1),
                         metadata={"description": "forecast run id (default: the latest "
                                                  "successful run)"})
    status = DelimitedList(fields.String(validate=validate.OneOf(STATUSES)),
                           metadata={"description": "comma separated: " + ", ".join(STATUSES)})
    category = fields.String()
    sku = fields.String()
    size = fields.String()
    location = fields.String(metadata={"description": "location code"})
    supplier = fields.String()
    min_quantity = fields.Integer(validate=validate.Range(min=0),
                                  metadata={"description": "suggested units at least this"})
    min_value = fields.Decimal(validate=validate.Range(min=0), as_string=True,
                               metadata={"description": "suggested value at least this"})
    changed = fields.Boolean(metadata={
        "description": "true: the suggested units differ from the previous run's (or the "
                       "previous run suggested nothing); false: unchanged"})
    min_change = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "|suggested - previous| at least this (no previous counts as 0)"})
    search = fields.String(validate=validate.Length(min=1, max=255), metadata={
        "description": "SKU or description starting with this text, whatever the case"})
