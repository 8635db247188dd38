"""Returned units: grade, re-grade, repair outcome and photos."""

from __future__ import annotations

from flask import g, request, send_file
from marshmallow import fields, validate
from werkzeug.routing import BaseConverter

from ..domain.access import Role
from ..domain.grading import REPAIR_OUTCOMES, Grade, UnitStatus
from ..domain.text import MAX_NOTE_CHARS
from ..extensions import policies, settings, uow_factory
from ..http.auth import READ, confirms_token, current_actor, requires_role, token_to_confirm
from ..http.body import sized_body
from ..http.schemas import CursorInfo, PageSize, StrictSchema, cursor_page
from ..services.grading import grade_unit, record_repair_outcome, regrade_unit
from ..services.grading_batch import MAX_UNITS_PER_BATCH, UnitGrade, grade_units
from ..services.photos import attach_photos, photo_path, unit_view
from .blueprint import Blueprint
from .refund_schemas import UnitOutcomeOut

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="Returned units")
BATCH = "grades"  # POST /units/grades sits beside /units/<unit_id>


class UnitIdConverter(BaseConverter):
    """A unit id in a path: never `grades`, so GET /units/grades is a 405 (Allow: POST) and
    not a search for a unit of that name; the OpenAPI document says the same."""

    regex = rf"(?!{BATCH}(?![^/]))[^/]+"


def init_app(app, api) -> None:
    """Teach the app (before the routes are registered) and its document the unit id."""
    app.url_map.converters["unit_id"] = UnitIdConverter
    # The per-request photo limit is policy (config/grading.toml); the document is built when
    # the blueprint registers, right after this, so it states this app's limit.
    with app.app_context():
        PHOTOS["maxItems"] = policies().grading.photo_max_per_request
    api.register_converter(UnitIdConverter, lambda _: {"type": "string",
                                                       "not": {"enum": [BATCH]}})


class GradeIn(StrictSchema):
    grade = fields.String(required=True, validate=validate.OneOf([g.value for g in Grade]))
    defects = fields.List(fields.String(), load_default=list)
    note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))


class RegradeIn(GradeIn):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class RepairOutcomeIn(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(list(REPAIR_OUTCOMES)))
    note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))


class GradingOut(StrictSchema):
    unit_id = fields.String()
    grade = fields.String(allow_none=True)
    defects = fields.List(fields.String())
    disposition = fields.String()
    rule = fields.String(metadata={"description": "the grading rule that decided"})
    status = fields.String()
    condition = fields.String(allow_none=True)
    where_to_put = fields.String()
    write_off_id = fields.Integer(allow_none=True)
    write_off_value = fields.String(allow_none=True)
    awaiting_approval = fields.Boolean()
    outcome = fields.Nested(UnitOutcomeOut, allow_none=True, metadata={
        "description": "what the customer gets for the unit; null for a blind receipt"})


class UnitOut(StrictSchema):
    unit_id = fields.String()
    label_code = fields.String()
    rma = fields.String(allow_none=True)
    sku = fields.String()
    size = fields.String()
    description = fields.String()
    location = fields.String()
    status = fields.String()
    condition = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    disposition = fields.String(allow_none=True)
    defects = fields.List(fields.String())
    reason = fields.String(allow_none=True, metadata={"description": "customer's reason code"})
    customer_note = fields.String(allow_none=True,
                                  metadata={"description": "the customer's note on this line"})
    return_note = fields.String(allow_none=True,
                                metadata={"description": "the customer's note on the return"})
    receiving_note = fields.String(allow_none=True,
                                   metadata={"description": "the receiving dock's note"})
    resolution = fields.String(allow_none=True)
    blind = fields.Boolean()
    flagged_for_review = fields.Boolean()
    history = fields.List(fields.Dict())
    photos = fields.List(fields.Dict())


class UnitGradeIn(GradeIn):
    unit_id = fields.String(required=True, validate=validate.Length(min=1, max=32))


class GradesIn(StrictSchema):
    grades = fields.List(
        fields.Nested(UnitGradeIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_UNITS_PER_BATCH),
        metadata={"description": f"1 to {MAX_UNITS_PER_BATCH} units, each graded once"},
    )


class GradesOut(StrictSchema):
    graded = fields.List(fields.Nested(GradingOut), metadata={"description": "in request order"})


class PhotosOut(StrictSchema):
    photos = fields.List(fields.Dict())


class UnitQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in UnitStatus]))
    flagged_for_review = fields.Boolean(metadata={"description": "blind receipts to review"})
    after = fields.Integer(load_default=None)
    limit = PageSize(load_default=100, at_most=1000)


class UnitListed(StrictSchema):
    unit_id = fields.String(attribute="unit_code")
    rma = fields.String(allow_none=True)
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    status = fields.String()
    grade = fields.String(allow_none=True)
    blind = fields.Boolean()
    flagged_for_review = fields.Boolean()
    received_at = fields.DateTime()
    received_by = fields.String()
    note = fields.String(allow_none=True)


class UnitPage(StrictSchema):
    data = fields.List(fields.Nested(UnitListed))
    page = fields.Nested(CursorInfo)


@blp.get("")
@blp.arguments(UnitQuery, location="query")
@blp.response(200, UnitPage)
@requires_role(*READ)
def list_units(args):
    """Units by status or review flag, e.g. blind receipts waiting for someone to review."""
    with uow_factory()() as uow:
        rows = uow.units.units_for_review(
            status=args.get("status"), flagged=args.get("flagged_for_review"),
            limit=args["limit"], after=args["after"])
    return cursor_page(rows, args["limit"])


@blp.get("/<unit_id:unit_id>")
@blp.response(200, UnitOut)
@blp.alt_response(405, description="`grades` is no unit id: /units/grades takes POST only")
@requires_role(*READ)
def get_unit(unit_id):
    """A unit with its item, customer reason, grading history and photos."""
    return unit_view(uow_factory(), unit_id)


@blp.post("/<unit_id:unit_id>/grade")
@blp.arguments(GradeIn, json_check=True)
@blp.response(200, GradingOut)
@requires_role(Role.GRADER)
@confirms_token  # in the statement that locks the unit
def post_grade(body, unit_id):
    """Grade a unit in quarantine; it moves at once, exactly once, to its disposition."""
    return grade_unit(uow_factory(), policies(), unit_id=unit_id, actor=current_actor(),
                      is_admin=g.role is Role.ADMIN, token_to_confirm=token_to_confirm(), **body)


@blp.post("/grades")
@blp.arguments(GradesIn)
@blp.response(200, GradesOut)
@requires_role(Role.GRADER)
@confirms_token  # in the statement that locks the units
def post_grades(body):
    """Grade a tote of units in one request: all of them or, if any cannot be graded, none.

    For scanners and returns centres that grade offline and upload; each unit gets the same
    rules, ledger movements and events as when graded alone. A refusal lists every entry at
    fault as `grades.N.field`."""
    grades = [UnitGrade(**entry) for entry in body["grades"]]
    return {"graded": grade_units(uow_factory(), policies(), grades=grades,
                                  actor=current_actor(), is_admin=g.role is Role.ADMIN,
                                  token_to_confirm=token_to_confirm())}


@blp.post("/<unit_id:unit_id>/regrade")
@blp.arguments(RegradeIn)
@blp.response(200, GradingOut)
@requires_role(Role.ADMIN)
def post_regrade(body, unit_id):
    """A supervisor corrects a grade with a reason; compensating movements keep the history."""
    return regrade_unit(uow_factory(), policies(), unit_id=unit_id, actor=current_actor(),
                        **body)


@blp.post("/<unit_id:unit_id>/repair-outcome")
@blp.arguments(RepairOutcomeIn)
@blp.response(200, GradingOut)
@requires_role(Role.GRADER)
def post_repair_outcome(body, unit_id):
    """A repaired unit goes back to stock as A or B, or is scrapped."""
    return record_repair_outcome(uow_factory(), policies(), unit_id=unit_id,
                                 actor=current_actor(), is_admin=g.role is Role.ADMIN, **body)


PHOTOS = {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
          "description": "JPEG, PNG or WebP images, each within the grading policy's size"}


@blp.post("/<unit_id:unit_id>/photos")
@blp.response(201, PhotosOut)
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["photo"], "properties": {"photo": PHOTOS}},
    "encoding": {"photo": {"contentType": "image/jpeg, image/png, image/webp"}}}}})
@requires_role(Role.GRADER)
@sized_body(lambda: policies().grading.photo_upload_bytes)
def post_photos(unit_id):
    """Attach photos (multipart field `photo`): images only, limited in size, per request and
    per unit (config/grading.toml [photos])."""
    files = [(f.filename, f.mimetype, f.read()) for f in request.files.getlist("photo")]
    return {"photos": attach_photos(uow_factory(), policies(), settings().instance_path,
                                    unit_id=unit_id, files=files, actor=current_actor())}


@blp.get("/<unit_id:unit_id>/photos/<filename>")
@blp.doc(responses={"200": {"description": "The image as it was uploaded", "content": {
    "image/*": {"schema": {"type": "string", "format": "binary"}}}}})
@requires_role(*READ)
def get_photo(unit_id, filename):
    """A stored photo of the unit."""
    path, content_type = photo_path(uow_factory(), settings().instance_path, unit_id, filename)
    return send_file(path, mimetype=content_type)
