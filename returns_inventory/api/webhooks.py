"""Webhook subscriptions for the ERP, their deliveries, and replays of failed ones."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..extensions import settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import CursorInfo, Int64, PageSize, StrictSchema, cursor_page
from ..integrations.webhook_http import AddressPolicy
from ..services.webhooks import (
    EVENT_TYPES,
    register_webhook,
    replay_failed,
    set_webhook_active,
)
from .blueprint import Blueprint

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Outbound webhooks (HMAC-SHA256 signed)")


class WebhookIn(StrictSchema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    secret = fields.String(validate=validate.Length(min=16, max=255), metadata={
        "description": "shared HMAC secret; generated and returned once when omitted"})
    event_types = fields.List(fields.String(validate=validate.OneOf(sorted(EVENT_TYPES))),
                              load_default=list, metadata={"description": "empty: every event"})
    since = Int64(validate=validate.Range(min=0), metadata={
        "description": "an event feed cursor: also send the events after it; omitted, only "
                       "events committed after registration are sent"})
    ordered = fields.Boolean(load_default=False, metadata={
        "description": "true: events are sent one at a time in feed order, a later one "
                       "waiting while an earlier one is retried; false: several at once, "
                       "so a retried event may arrive after later ones"})


class WebhookListed(StrictSchema):
    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    active = fields.Boolean()
    ordered = fields.Boolean()


class WebhookOut(WebhookListed):
    secret = fields.String(metadata={"description": "only in the answer that created it"})
    since = fields.Integer(metadata={
        "description": "the feed cursor it starts from: no event up to it is sent"})


class WebhookChange(StrictSchema):
    active = fields.Boolean(required=True, metadata={
        "description": "false: no event committed from now until it is on again is sent to "
                       "it, pending deliveries wait; true: resume"})


class WebhookList(StrictSchema):
    data = fields.List(fields.Nested(WebhookListed))


class DeliveryQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))
    webhook_id = fields.Integer(validate=validate.Range(min=1))
    after = fields.Integer(load_default=None)
    limit = PageSize(load_default=100, at_most=1000)


class DeliveryOut(StrictSchema):
    id = fields.Integer()
    delivery_id = fields.String()
    webhook_id = fields.Integer()
    event_id = Int64()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class DeliveryPage(StrictSchema):
    data = fields.List(fields.Nested(DeliveryOut))
    page = fields.Nested(CursorInfo)


class ReplayIn(StrictSchema):
    # An empty list or id 0 must not read as "no filter": that would replay every failure.
    delivery_ids = fields.List(fields.Integer(validate=validate.Range(min=1)),
                               validate=validate.Length(min=1), load_default=None)
    webhook_id = fields.Integer(validate=validate.Range(min=1), load_default=None)


class ReplayOut(StrictSchema):
    replayed = fields.Integer()


@blp.post("")
@blp.arguments(WebhookIn)
@blp.response(201, WebhookOut)
@requires_role(Role.ADMIN)
def post_webhook(body):
    """Register an ERP endpoint; events are POSTed to it signed with the secret. A host that
    resolves to an internal address is refused unless listed in the internal hosts setting."""
    return register_webhook(uow_factory(), actor=current_actor(),
                            addresses=AddressPolicy.from_settings(settings()), **body)


@blp.get("")
@blp.response(200, WebhookList)
@requires_role(Role.ADMIN)
def get_webhooks():
    """Registered endpoints (secrets are never shown again)."""
    with uow_factory()() as uow:
        return {"data": uow.webhooks.list()}


@blp.patch("/<int:webhook_id>")
@blp.arguments(WebhookChange)
@blp.response(200, WebhookListed)
@requires_role(Role.ADMIN)
def patch_webhook(body, webhook_id):
    """Switch an endpoint off (`{"active": false}`) or on again."""
    return set_webhook_active(uow_factory(), webhook_id, active=body["active"])


@blp.get("/deliveries")
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, DeliveryPage)
@requires_role(Role.ADMIN, Role.INTEGRATOR)
def get_deliveries(args):
    """Deliveries, e.g. `status=failed` to see what the ERP never acknowledged."""
    with uow_factory()() as uow:
        rows = uow.webhooks.deliveries(status=args.get("status"),
                                       webhook_id=args.get("webhook_id"),
                                       limit=args["limit"], after=args["after"])
    return cursor_page(rows, args["limit"])


@blp.post("/deliveries/replay")
@blp.arguments(ReplayIn)
@blp.response(200, ReplayOut)
@requires_role(Role.ADMIN)
def post_replay(body):
    """Queue failed deliveries again (all, some ids, or one webhook's)."""
    return {"replayed": replay_failed(uow_factory(), **body)}
