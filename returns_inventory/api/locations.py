"""Warehouses and stores."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.catalogue import LocationType
from ..extensions import settings, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import PageArgs, PageInfo, StrictSchema, page_limit
from .blueprint import Blueprint

blp = Blueprint("locations", __name__, url_prefix="/api/v1/locations", description="Locations")
LOCATION_TYPES = [t.value for t in LocationType]


class LocationQuery(PageArgs):
    type = fields.String(validate=validate.OneOf(LOCATION_TYPES))


class LocationOut(StrictSchema):
    code = fields.String()
    name = fields.String()
    type = fields.String(metadata={"enum": LOCATION_TYPES})
    allow_negative = fields.Boolean(
        metadata={"description": "stock here may go below zero (stores selling unbooked units)"}
    )


class LocationPage(StrictSchema):
    data = fields.List(fields.Nested(LocationOut))
    page = fields.Nested(PageInfo)


@blp.get("")
@blp.arguments(LocationQuery, location="query")
@blp.response(200, LocationPage)
@requires_role(*READ)
def list_locations(args):
    """Locations ordered by code, paginated like /stock."""
    limit = page_limit(args, settings())
    with uow_factory()() as uow:
        rows, total = uow.catalogue.page_locations(
            type=args.get("type"), offset=args["offset"], limit=limit
        )
    return {"data": rows, "page": {"offset": args["offset"], "limit": limit, "total": total}}
