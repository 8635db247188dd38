"""Liveness and readiness, for load balancers and orchestrators (no token)."""

from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from ..extensions import database, settings, uow_factory
from ..http.problems import problem
from ..http.schemas import ProblemSchema, StrictSchema
from ..persistence.migrate import schema_status
from ..services.scheduler_health import scheduler_heartbeat
from .blueprint import Blueprint

blp = Blueprint("health", __name__, description="Health checks (no token needed)")


class SchedulerOut(StrictSchema):
    status = fields.String(metadata={
        "description": "`ok`, `stale` (no job ran for `stale_after_seconds`: is the scheduler "
        "process down?) or `never_seen`"})
    last_tick = fields.DateTime(metadata={"description": "when a scheduler last started a job"})
    age_seconds = fields.Float()
    stale_after_seconds = fields.Integer()


class HealthOut(StrictSchema):
    status = fields.String()
    schema = fields.String(metadata={"description": "the migration the database is at"})
    scheduler = fields.Nested(SchedulerOut, metadata={
        "description": "readiness only: the scheduler's heartbeat. A stale one does not make "
        "this server unready (it still serves); alert on it"})


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
    """The database answers and its schema is at the head migration; the scheduler's
    heartbeat is reported."""
    ready, detail = schema_status(database().engine)
    if not ready:
        return problem(503, "Service Unavailable", detail, slug="not-ready")
    return jsonify(status="ready", schema=detail,
                   scheduler=scheduler_heartbeat(uow_factory(), settings()))
