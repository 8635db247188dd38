"""Stock balances and adjustments."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..extensions import settings, uow_factory
from ..http.auth import READ, current_actor, requires_role
from ..http.schemas import CONDITIONS, Int64, PageArgs, PageInfo, StrictSchema, page_limit
from ..services.stock import adjust_stock
from .blueprint import Blueprint
from .idempotency import current_key

blp = Blueprint("stock", __name__, url_prefix="/api/v1/stock", description="Stock balances")


class StockQuery(PageArgs):
    sku = fields.String()
    size = fields.String()
    location = fields.String(metadata={"description": "location code"})
    condition = fields.String(validate=validate.OneOf(CONDITIONS))


class Balance(StrictSchema):
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    condition = fields.String()
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()
    updated_at = fields.DateTime()


class BalancePage(StrictSchema):
    data = fields.List(fields.Nested(Balance))
    page = fields.Nested(PageInfo)


class AdjustmentIn(StrictSchema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    size = fields.String(required=True, validate=validate.Length(min=1, max=32))
    location = fields.String(required=True, validate=validate.Length(min=1, max=32))
    condition = fields.String(load_default="sellable", validate=validate.OneOf(CONDITIONS))
    quantity = fields.Integer(
        required=True, validate=validate.NoneOf([0], error="must not be zero"),
        metadata={"description": "signed change of on hand units"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))
    reference = fields.String(validate=validate.Length(max=128))


class AdjustmentOut(StrictSchema):
    movement_id = Int64()
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    condition = fields.String()
    quantity = fields.Integer()
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()


@blp.get("")
@blp.arguments(StockQuery, location="query")
@blp.response(200, BalancePage)
@requires_role(*READ)
def list_stock(args):
    """Balances per item, location and condition, filtered and paginated."""
    limit = page_limit(args, settings())
    filters = {k: args.get(k) for k in ("sku", "size", "location", "condition")}
    with uow_factory()() as uow:
        rows, total = uow.stock.list_balances(offset=args["offset"], limit=limit, **filters)
    return {"data": rows, "page": {"offset": args["offset"], "limit": limit, "total": total}}


@blp.post("/adjustments")
@blp.arguments(AdjustmentIn)
@blp.response(201, AdjustmentOut)
@requires_role(Role.INTEGRATOR, Role.PLANNER)
def post_adjustment(body):
    """Correct a balance by a signed quantity; the reason is kept on the ledger."""
    # The ledger keeps the key too: if the process died after committing but before storing
    # the answer, a retry that takes the key over is still recognised and not applied twice.
    result = adjust_stock(
        uow_factory(), actor=current_actor(), idempotency_key=current_key(), **body
    )
    return result, {"Idempotent-Replayed": "true"} if result.replayed else {}
