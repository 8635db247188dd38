"""A supervisor's review of a blind receipt: the unit leaves the review list."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.text import MAX_NOTE_CHARS
from ..extensions import uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import StrictSchema
from ..services.review import mark_reviewed
from .blueprint import Blueprint

blp = Blueprint("unit_reviews", __name__, url_prefix="/api/v1/units",
                description="Blind receipts reviewed")


class ReviewIn(StrictSchema):
    note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS),
                         metadata={"description": "what the review found, e.g. whose it is"})


class ReviewOut(StrictSchema):
    unit_id = fields.String()
    flagged_for_review = fields.Boolean()
    note = fields.String(allow_none=True)


@blp.post("/<unit_id:unit_id>/review")
@blp.arguments(ReviewIn)
@blp.response(200, ReviewOut)
@requires_role(Role.ADMIN)
def post_review(body, unit_id):
    """The unit was reviewed (a blind receipt, or more than its return expected): it leaves
    the review list and the ERP hears `unit.reviewed`; a unit not flagged is a 409."""
    return mark_reviewed(uow_factory(), unit_id=unit_id, actor=current_actor(),
                         note=body.get("note"))
