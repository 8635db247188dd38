"""The item catalogue: one row per style-colour SKU in one size."""

from __future__ import annotations

from marshmallow import fields

from ..extensions import settings, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import PageArgs, PageInfo, StrictSchema, page_limit
from .blueprint import Blueprint

blp = Blueprint("items", __name__, url_prefix="/api/v1/items", description="Item catalogue")


class ItemQuery(PageArgs):
    sku = fields.String(metadata={"description": "style-colour code, exact"})
    size = fields.String()
    category = fields.String()
    gtin = fields.String(metadata={"description": "barcode, exact"})


class ItemOut(StrictSchema):
    sku = fields.String()
    size = fields.String()
    gtin = fields.String(allow_none=True)
    category = fields.String()
    description = fields.String()
    # Money as decimal strings: a float would turn 19.90 into 19.899999...
    unit_cost = fields.Decimal(as_string=True, places=2)
    price = fields.Decimal(as_string=True, places=2)
    supplier = fields.String(allow_none=True)
    lead_time_days = fields.Integer()
    case_pack = fields.Integer()
    min_order_qty = fields.Integer()
    launched_on = fields.Date(allow_none=True)
    factory = fields.String(allow_none=True)
    season = fields.String(allow_none=True)
    fabric = fields.String(allow_none=True)
    image_url = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class ItemPage(StrictSchema):
    data = fields.List(fields.Nested(ItemOut))
    page = fields.Nested(PageInfo)


@blp.get("")
@blp.arguments(ItemQuery, location="query")
@blp.response(200, ItemPage)
@requires_role(*READ)
def list_items(args):
    """Items ordered by SKU and size, filtered and paginated like /stock."""
    limit = page_limit(args, settings())
    filters = {k: args.get(k) for k in ("sku", "size", "category", "gtin")}
    with uow_factory()() as uow:
        rows, total = uow.catalogue.list_items(offset=args["offset"], limit=limit, **filters)
    return {"data": rows, "page": {"offset": args["offset"], "limit": limit, "total": total}}
