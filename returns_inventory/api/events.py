"""The event feed: every state change, oldest first, for the ERP to follow."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..extensions import settings, uow_factory
from ..http.auth import requires_role
from ..http.schemas import CursorInfo, Int64, PageSize, StrictSchema, page_limit
from .blueprint import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Event feed")


class EventQuery(StrictSchema):
    after = Int64(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "cursor: the last event id you have"})
    limit = PageSize(load_default=None)
    type = fields.String(metadata={"description": "only events of this type"})


class EventOut(StrictSchema):
    id = Int64()
    type = fields.String(attribute="event_type")
    payload = fields.Dict()
    actor = fields.String()
    created_at = fields.DateTime()


class EventPage(StrictSchema):
    data = fields.List(fields.Nested(EventOut))
    page = fields.Nested(CursorInfo)


@blp.get("")
@blp.arguments(EventQuery, location="query")
@blp.response(200, EventPage)
@requires_role(Role.INTEGRATOR, Role.PLANNER)
def list_events(args):
    """Events after the cursor, oldest first; none ever commits below the cursor answered."""
    limit = page_limit(args, settings())
    with uow_factory()() as uow:
        events = uow.events.after(args["after"], limit, args.get("type"))
    cursor = events[-1].id if events else args["after"]
    return {"data": events, "page": {"next_cursor": cursor, "limit": limit}}
