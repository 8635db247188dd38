"""The stock ledger: every movement, in order, with cursor pagination."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.stock import MovementType
from ..extensions import settings, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import CONDITIONS, CursorInfo, Int64, PageSize, StrictSchema, page_limit
from .blueprint import Blueprint

blp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger", description="Stock ledger")


class LedgerQuery(StrictSchema):
    after = Int64(load_default=None, metadata={"description": "cursor from the last page"})
    limit = PageSize(load_default=None)
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    condition = fields.String(validate=validate.OneOf(CONDITIONS))
    # Validated so that a typo answers 422 instead of an empty, plausible-looking page.
    movement_type = fields.String(validate=validate.OneOf([t.value for t in MovementType]))
    reference = fields.String()
    since = fields.AwareDateTime(metadata={"description": "inclusive, ISO 8601 with zone"})
    until = fields.AwareDateTime(metadata={"description": "exclusive, ISO 8601 with zone"})


class MovementOut(StrictSchema):
    id = Int64()
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    condition = fields.String()
    movement_type = fields.String()
    quantity = fields.Integer()
    reserved_delta = fields.Integer()
    on_hand_after = fields.Integer()
    reserved_after = fields.Integer()
    reason = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.DateTime()


class LedgerPage(StrictSchema):
    data = fields.List(fields.Nested(MovementOut))
    page = fields.Nested(CursorInfo)


@blp.get("")
@blp.arguments(LedgerQuery, location="query")
@blp.response(200, LedgerPage)
@requires_role(*READ)
def list_ledger(args):
    """Movements after a cursor, oldest first; follow `page.next_cursor` until it is null."""
    limit = page_limit(args, settings())
    filters = {k: v for k, v in args.items() if k not in {"after", "limit"}}
    with uow_factory()() as uow:
        rows = uow.stock.list_movements(after=args["after"], limit=limit, **filters)
    next_cursor = rows[-1].id if len(rows) == limit else None
    return {"data": rows, "page": {"next_cursor": next_cursor, "limit": limit}}
