"""ERP bulk imports: one CSV or JSON file per call, validated whole and applied all or nothing."""

from __future__ import annotations

from flask import request
from marshmallow import fields

from ..domain.access import Role
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.body import large_body, spooled_body
from ..http.problems import problem
from ..http.schemas import StrictSchema
from ..services.import_schemas import KINDS
from ..services.imports import MAX_REPORTED_ERRORS, import_kind, import_rows
from .blueprint import Blueprint

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1/imports",
    description="Bulk imports from the ERP (CSV or JSON, optionally gzip)",
)

MEDIA_TYPES = {"text/csv": "csv", "application/json": "json"}
ENCODINGS = {"": None, "identity": None, "gzip": True, "x-gzip": True}


class ImportOut(StrictSchema):
    batch_id = fields.Integer(metadata={"description": "the import batch this file became"})
    kind = fields.String()
    rows = fields.Integer(metadata={"description": "data rows in the file"})
    applied = fields.Integer(
        metadata={"description": "rows that added or changed something (stock: movements)"}
    )
    skipped = fields.Integer(
        metadata={"description": "rows already in that state: re-sent lines, unchanged records"}
    )
    duplicate = fields.Boolean(
        metadata={
            "description": "true when this exact file was imported before; the figures "
            "are the first import's and nothing was changed now"
        }
    )
    sha256 = fields.String(metadata={"description": "SHA-256 of the body as sent"})
    actor = fields.String(metadata={"description": "who imported the file first"})
    imported_at = fields.DateTime()


def _description() -> str:
    parts = [
        "Send the file as the body: `Content-Type: text/csv` (UTF-8, comma separated, a "
        "header row naming the columns in any order) or `application/json` (an array of "
        "objects), optionally with `Content-Encoding: gzip`. The whole file is checked "
        "first; any bad row means nothing is written and a 422 problem document whose "
        "`errors` name each bad `row` (1-based data row), `field` (column) and `reason` "
        f"(the first {MAX_REPORTED_ERRORS}; `error_count` has the total). A file sent again "
        "byte for byte answers 200 with the first import's figures and `duplicate: true`.",
    ]
    for kind in KINDS.values():
        parts.append(f"### `{kind.name}`\n{kind.summary}\n\n{kind.describe()}")
    return "\n\n".join(parts)


@blp.post("/<kind>")
@blp.response(201, ImportOut, description="the file was applied")
@blp.alt_response(
    200, schema=ImportOut, description="this file was imported before; nothing changed"
)
@blp.alt_response(
    422, description="the file has bad rows (problem document with `errors`); nothing was written"
)
@blp.alt_response(415, description="the body is neither text/csv nor application/json")
@blp.doc(
    description=_description(),
    parameters=[
        {
            "in": "path",
            "name": "kind",
            "required": True,
            "schema": {"type": "string", "enum": list(KINDS)},
        }
    ],
    requestBody={
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "minLength": 1}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    },
)
@requires_role(Role.INTEGRATOR)
@large_body
def post_import(kind: str):
    """Import an ERP file of one kind, all or nothing."""
    import_kind(kind)  # 404 for an unknown kind before the body is read
    fmt = MEDIA_TYPES.get(request.mimetype)
    if fmt is None:
        return problem(
            415,
            "Unsupported Media Type",
            f"send the file as text/csv or application/json, not {request.mimetype or 'nothing'}",
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8", "us-ascii"}:
        return problem(415, "Unsupported Media Type", f"send the file as UTF-8, not {charset}")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ENCODINGS:
        return problem(
            415,
            "Unsupported Media Type",
            f"Content-Encoding {encoding} is not supported; use gzip or none",
        )
    body = spooled_body()
    config = settings()
    result = import_rows(
        uow_factory(),
        kind,
        body.rewind(),
        fmt=fmt,
        sha256=body.sha256,
        actor=current_actor(),
        batch_size=config.import_batch_size,
        gzipped=ENCODINGS[encoding],
        max_bytes=config.max_import_bytes,
        max_row_bytes=config.max_import_row_bytes,
        policies=policies(),
    )
    return result, 200 if result.duplicate else 201
