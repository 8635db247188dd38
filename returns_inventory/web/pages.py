"""What every web page shares: registration, the menu, login redirects and errors in words.

The planner console registers its blueprints here too, so it gets the same login, layout,
roles and error pages without code of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..domain.access import Role, allows
from ..domain.errors import DomainError
from ..http.problems import status_of
from . import session

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class MenuEntry:
    endpoint: str
    label: str
    roles: frozenset[Role]
    # The roles that land here after logging in (a grader at the bench wants the station).
    start_for: frozenset[Role] = frozenset()


def page_blueprint(name: str, import_name: str, **options) -> Blueprint:
    """A blueprint of HTML pages: its errors are pages in words, never problem documents."""
    blueprint = Blueprint(name, import_name, **options)
    blueprint.register_error_handler(DomainError, _domain_error_page)
    blueprint.register_error_handler(HTTPException, _http_error_page)
    blueprint.register_error_handler(Exception, _unexpected_page)
    return blueprint


def register_pages(app: Flask, blueprint: Blueprint, *menu: MenuEntry) -> None:
    """Register a page blueprint: browsers are sent to log in, and it gets a place in the menu."""
    app.register_blueprint(blueprint)
    app.extensions.setdefault("ri.pages", set()).add(blueprint.name)
    app.extensions.setdefault("ri.menu", []).extend(menu)


def menu_for(role: Role | None) -> list[MenuEntry]:
    if role is None:
        return []
    return [m for m in current_app.extensions.get("ri.menu", []) if allows(role, m.roles)]


def start_page_for(role: Role) -> str | None:
    return next((m.endpoint for m in menu_for(role) if role in m.start_for), None)


def is_page() -> bool:
    return request.blueprint in current_app.extensions.get("ri.pages", set())


def error_page(status: int, title: str, detail: str, *, back: tuple[str, str] | None = None):
    """An error in words; `back` is (link, words) to the page the person came from, where
    there is a better way back than the start page."""
    return render_template("error.html", title=title, detail=detail, status=status,
                           back=back), status


def refuse_forged_requests():
    """Every POST that rides on the session cookie must carry the session's form token."""
    if request.routing_exception is not None or not session.forged():
        return None
    if is_page():
        return error_page(
            400, "This form has expired",
            "The page was open too long or came from somewhere else. Go back, reload the page "
            "and try again.",
        )
    from ..http.problems import problem

    return problem(403, "Forbidden", f"a request made with the browser session needs the "
                   f"{session.CSRF_HEADER} header", slug="csrf-token-missing")


def answer_browsers(response):
    """The API's auth answers 401/403 problem documents, and a URL that matches no route a
    404 problem; people at a browser get pages."""
    if response.mimetype != PROBLEM:
        return response
    unrouted = request.routing_exception
    if isinstance(unrouted, HTTPException) and _prefers_html() \
            and not request.path.startswith("/api/"):
        return current_app.make_response(_http_error_page(unrouted))
    if response.status_code not in (401, 403):
        return response
    browser = is_page() or _prefers_html()
    if response.status_code == 401 and browser:
        target = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
        return redirect(url_for("login.login_page", next=target), code=303)
    if response.status_code == 403 and is_page():
        role = g.get("role")
        body, status = error_page(
            403, "Not for your role",
            f"You are logged in as {role.value if role else 'nobody'}; this page is for "
            "other roles. Ask a supervisor if you need it.",
        )
        return current_app.make_response((body, status))
    return response


def _prefers_html() -> bool:
    # A browser opening /api/v1/docs asks for text/html by name; API clients send */* or JSON.
    accept = request.accept_mimetypes
    return request.method in ("GET", "HEAD") and "text/html" in accept.values() and (
        accept["text/html"] >= accept["application/json"]
    )


def _domain_error_page(exc: DomainError):
    return error_page(status_of(exc), exc.title, exc.detail)


def _http_error_page(exc: HTTPException):
    words = {
        404: "There is no such page here.",
        405: "That page cannot be used this way.",
        413: "What was sent is too large. Try fewer or smaller photos.",
    }
    return error_page(exc.code or 500, exc.name, words.get(exc.code, exc.description or ""))


def _unexpected_page(exc: Exception):
    log.exception("unhandled error on a page")
    return error_page(500, "Something went wrong",
                      "The server failed and nothing was changed. Try again; if it keeps "
                      "happening, tell a supervisor.")
