"""Server-rendered pages for graders (and, later, planners), behind a login with the API's roles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, g, send_from_directory

from ..domain.access import Role
from ..domain.quality import evidence_words
from ..http.auth import READ, public
from . import (
    analytics_page,
    claims_page,
    login,
    pages,
    planner,
    planner_bulk,  # noqa: F401 - routes on planner.bp
    planner_table,  # noqa: F401 - routes on planner.bp
    quality_page,
    queue,
    receiving,
    refunds_page,
    runs_page,
    session,
    station,
    supervisor,
    words,
)

STATIC = Path(__file__).parent / "static"

assets = Blueprint("web_assets", __name__, template_folder="templates")


@assets.get("/assets/<path:filename>")
@public
def static_file(filename: str):
    """The pages' own CSS and JS (no CDN: the bench may have no internet)."""
    return send_from_directory(STATIC, filename, max_age=3600)


def init_app(app: Flask) -> None:
    """Attach the login, the grading station, the planner console and what all pages share."""
    # One shift. Flask's own default (31 days) is already in app.config, so this must be set,
    # not defaulted: a cookie left on a shared bench tablet would otherwise last a month.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.session_interface = session.CookieSessions()
    # The API's token auth asks this for requests without a token: the browser session.
    app.extensions["ri.session_auth"] = session.session_principal
    app.register_blueprint(assets)
    pages.register_pages(app, login.bp, pages.MenuEntry(
        "api-docs.openapi_swagger_ui", "API documentation", READ))
    pages.register_pages(app, station.bp, pages.MenuEntry(
        "station.scan", "Grading station", frozenset({Role.GRADER}),
        start_for=frozenset({Role.GRADER})))
    pages.register_pages(app, receiving.bp, pages.MenuEntry(
        "receiving.receive", "Receiving", frozenset({Role.GRADER})))
    pages.register_pages(app, queue.bp, pages.MenuEntry(
        "queue.queue", "Grading queue", frozenset({Role.GRADER})))
    pages.register_pages(app, supervisor.bp, pages.MenuEntry(
        "supervisor.overview", "Supervisor", frozenset({Role.ADMIN})))
    # The planner console: a planner lands on the suggestions; an admin sees every entry.
    pages.register_pages(app, planner.bp, pages.MenuEntry(
        "planner.suggestions", "Suggestions", frozenset({Role.PLANNER}),
        start_for=frozenset({Role.PLANNER})))
    pages.register_pages(app, analytics_page.bp, pages.MenuEntry(
        "planner_returns.returns_page", "Returns analytics", frozenset({Role.PLANNER})))
    pages.register_pages(app, quality_page.bp, pages.MenuEntry(
        "planner_quality.quality_page", "Quality", frozenset({Role.PLANNER})))
    pages.register_pages(app, claims_page.bp)
    pages.register_pages(app, runs_page.bp, pages.MenuEntry(
        "planner_runs.runs", "Forecast runs", frozenset({Role.PLANNER})))
    pages.register_pages(app, refunds_page.bp, pages.MenuEntry(
        "planner_refunds.refunds_page", "Refunds", frozenset({Role.PLANNER})))
    app.jinja_env.filters["words"] = words.in_words
    app.jinja_env.filters["condition_words"] = words.condition_in_words
    app.jinja_env.filters["quality_words"] = evidence_words
    app.context_processor(_page_context)



def _page_context() -> dict:
    person = g.get("person")
    return {
        "person": person,
        "menu": pages.menu_for(person.role if person else None),
        "csrf_token": session.csrf_token,
        "csrf_field": session.CSRF_FIELD,
    }
