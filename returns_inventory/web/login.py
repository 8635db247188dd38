"""Logging in and out of the web pages, and the start page that lists what a role may open."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for

from ..domain.errors import TooManyAttempts
from ..extensions import settings, uow_factory
from ..http.auth import READ, public, requires_role
from ..services.sessions import LoginLimits
from ..services.sessions import log_in as open_session
from . import session
from .pages import menu_for, page_blueprint, start_page_for

bp = page_blueprint("login", __name__)


@bp.get("/login")
@public
def login_page():
    """The login form (anyone may see it)."""
    if session.current_person() is not None:
        return redirect(_next_page())
    return render_template("login.html", next=_next_page(default=""))


@bp.post("/login")
@public
def log_in():
    """Check the username and password; on success, open a session."""
    username = request.form.get("username", "")
    try:
        opened = open_session(
            uow_factory(), LoginLimits.from_settings(settings()), username=username,
            password=request.form.get("password", ""), address=request.remote_addr,
            lifetime=current_app.permanent_session_lifetime,
        )
    except TooManyAttempts as exc:
        page = render_template("login.html", next=_next_page(default=""), username=username,
                               error=exc.detail)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if opened is None:
        return render_template(
            "login.html", next=_next_page(default=""), username=username,
            error="That username and password do not match an active user.",
        ), 401
    session.log_in(*opened)
    return redirect(_next_page(), code=303)


@bp.post("/logout")
@requires_role(*READ)
def log_out():
    """Close the session; the next visitor at this bench must log in again."""
    session.log_out()
    flash("You are logged out.")
    return redirect(url_for("login.login_page"), code=303)


@bp.get("/")
@requires_role(*READ)
def start():
    """The pages this person's role may open (a grader goes straight to the station)."""
    landing = start_page_for(g.role)
    if landing is not None:
        return redirect(url_for(landing))
    return render_template("start.html", entries=menu_for(g.role))


def _next_page(default: str | None = None) -> str:
    # Only paths on this site: a crafted ?next=https://elsewhere must not bounce people away.
    # Browsers drop tabs and newlines from URLs, so "/\t/evil.example" becomes "//evil.example":
    # refuse any control or space character before judging the shape.
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)
        and not parts.scheme
        and not parts.netloc
    ):
        return target
    return url_for("login.start") if default is None else default
