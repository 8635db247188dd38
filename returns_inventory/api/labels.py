"""Unit labels to print: a Code 128 barcode of the unit id, as PDF."""

from __future__ import annotations

from flask import Response
from marshmallow import fields, validate

from ..extensions import policies, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import StrictSchema
from ..services.labels import LAYOUTS, labels_for_return, labels_for_units, render_labels
from .blueprint import Blueprint

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="Unit labels")

PDF_RESPONSE = {"200": {"description": "The labels as PDF", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


class LabelQuery(StrictSchema):
    layout = fields.String(load_default="label", validate=validate.OneOf(LAYOUTS), metadata={
        "description": "`label`: one 100 x 150 mm (4 x 6 in) label a page, for a label "
                       "printer; `a4`: an A4 sheet of 2 x 7 labels of 99.1 x 38.1 mm"})


@blp.get("/units/<unit_id:unit_id>/label")
@blp.arguments(LabelQuery, location="query")
@blp.doc(responses=PDF_RESPONSE)
@requires_role(*READ)
def get_unit_label(args, unit_id):
    """The unit's label: its id as a Code 128 barcode, SKU, size, RMA and receiving date."""
    labels = labels_for_units(uow_factory(), [unit_id], timezone=policies().returns.timezone)
    return _pdf(render_labels(labels, args["layout"]), f"label-{unit_id}.pdf")


@blp.get("/returns/<rma>/labels")
@blp.arguments(LabelQuery, location="query")
@blp.doc(responses=PDF_RESPONSE)
@requires_role(*READ)
def get_return_labels(args, rma):
    """The labels of every unit received against the return, in the order received."""
    labels = labels_for_return(uow_factory(), rma, timezone=policies().returns.timezone)
    return _pdf(render_labels(labels, args["layout"]), f"labels-{rma}.pdf")


def _pdf(body: bytes, filename: str) -> Response:
    # inline: the browser opens it in its viewer, whose Print button sends it to the printer.
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"'})
