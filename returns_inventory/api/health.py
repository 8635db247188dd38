"""Liveness and readiness, for load balancers and orchestrators (no token)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..extensions import database
from ..persistence.migrate import schema_status
from .errors import problem

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database answers and its schema is at the head migration."""
    ready, detail = schema_status(database().engine)
    if not ready:
        return problem(503, "Service Unavailable", detail, slug="not-ready")
    return jsonify(status="ready", schema=detail)
