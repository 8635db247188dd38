"""Forecast runs: what ran, when, how it went; asking for one, and discarding one."""

from __future__ import annotations

from flask import url_for
from marshmallow import fields, validate

from ..domain.access import Role
from ..extensions import settings, uow_factory
from ..http.auth import READ, current_actor, requires_role
from ..http.schemas import PageArgs, PageInfo, StrictSchema, page_limit
from ..services.forecast_runs import RunRequest, get_run, list_runs, planners_today
from ..services.run_requests import discard_run, request_run
from .blueprint import Blueprint

blp = Blueprint("forecast_runs", __name__, url_prefix="/api/v1/forecast-runs",
                description="Nightly forecast and replenishment runs")


class RunOut(StrictSchema):
    id = fields.Integer()
    as_of = fields.Date()
    status = fields.String(metadata={
        "description": "requested (waiting for the scheduler), running, succeeded or failed"})
    executor = fields.String()
    workers = fields.Integer()
    trigger = fields.String(metadata={"description": "schedule, cli, api or web"})
    actor = fields.String()
    started_at = fields.DateTime(metadata={
        "description": "when it started; while requested, when it was requested"})
    finished_at = fields.DateTime(allow_none=True)
    heartbeat_at = fields.DateTime(allow_none=True, metadata={
        "description": "last sign of life of the process running it"})
    runner = fields.String(allow_none=True, metadata={
        "description": "host:pid of the process that ran it"})
    discarded_at = fields.DateTime(allow_none=True, metadata={
        "description": "set when an admin discarded the run: it is never the default run"})
    discarded_by = fields.String(allow_none=True)
    series_count = fields.Integer()
    suggestion_count = fields.Integer()
    fallback_count = fields.Integer()
    failure_count = fields.Integer()
    figures = fields.Dict(metadata={"description": "timings per phase, methods chosen, fallbacks"})
    failures = fields.List(fields.Dict(), metadata={"description": "per series, at most 1000"})
    error = fields.String(allow_none=True)


class RunPage(StrictSchema):
    data = fields.List(fields.Nested(RunOut))
    page = fields.Nested(PageInfo)


class RunIn(StrictSchema):
    as_of = fields.Date(load_default=None, metadata={
        "description": "default today in the planners' time zone, as the nightly run; "
                       "not after today, nor before the week of the first sale"})
    workers = fields.Integer(load_default=None, validate=validate.Range(min=1, max=64),
                             metadata={"description": "at most max_workers of "
                                                      "config/forecasting.toml"})
    executor = fields.String(load_default=None, validate=validate.OneOf(["local", "dask"]))


@blp.get("")
@blp.arguments(PageArgs, location="query")
@blp.response(200, RunPage)
@requires_role(*READ)
def get_runs(args):
    """The latest runs first."""
    limit = page_limit(args, settings())
    runs, total = list_runs(uow_factory(), offset=args["offset"], limit=limit)
    return {"data": runs, "page": {"offset": args["offset"], "limit": limit, "total": total}}


@blp.get("/<int:run_id>")
@blp.response(200, RunOut)
@requires_role(*READ)
def get_one_run(run_id):
    """One run with its figures and the series that failed or fell back."""
    return get_run(uow_factory(), run_id)


@blp.post("")
@blp.arguments(RunIn)
@blp.response(202, RunOut)
@requires_role(Role.PLANNER)
def post_run(body):
    """Ask for a run; the scheduler starts it within seconds — follow it at its Location."""
    as_of = body["as_of"] or planners_today(settings())
    request = RunRequest(as_of=as_of, actor=current_actor(),
                         trigger="api", workers=body["workers"], executor=body["executor"])
    run = request_run(uow_factory(), settings(), request)
    return run, 202, {"Location": url_for("forecast_runs.get_one_run", run_id=run["id"])}


@blp.post("/<int:run_id>/discard")
@blp.response(200, RunOut)
@requires_role(Role.ADMIN)
def post_discard(run_id):
    """Discard a run: never the default again; its undecided suggestions leave every list."""
    return discard_run(uow_factory(), run_id, current_actor())
