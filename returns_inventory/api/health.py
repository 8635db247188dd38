"""Liveness and readiness, for load balancers and orchestrators (no token)."""

from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from ..extensions import database
from ..http.problems import problem
from ..http.schemas import ProblemSchema, StrictSchema
from ..persistence.migrate import schema_status
from .blueprint import Blueprint

blp = Blueprint("health", __name__, description="Health checks (no token needed)")


class HealthOut(StrictSchema):
    status = fields.String()
    schema = fields.String(metadata={"description": "the migration the database is at"})


@blp.get("/healthz")
@blp.response(200, HealthOut)
@blp.doc(security=[])
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
@blp.response(200, HealthOut)
@blp.alt_response(503, schema=ProblemSchema, content_type="application/problem+json",
                  description="The database is unreachable or its schema is not at head.")
@blp.doc(security=[])
def readyz():
    """The database answers and its schema is at the head migration."""
    ready, detail = schema_status(database().engine)
    if not ready:
        return problem(503, "Service Unavailable", detail, slug="not-ready")
    return jsonify(status="ready", schema=detail)
