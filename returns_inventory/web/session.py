"""Who is logged in: a signed session cookie carrying a session id that the database must still
know (logging out deletes it), and the form token against CSRF."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Request, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from ..domain.access import Role
from ..extensions import uow_factory
from ..persistence.repositories.users import Person
from ..services import sessions

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


SESSION_ID = "sid"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, but a request without the cookie (every API call with
    a bearer token: a grade, a scan) gets its empty session without the signer Flask builds
    first for every request, which cost more than the rest of opening it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def log_in(person: Person, session_id: str) -> None:
    # A fresh session (and form token) at login: nothing chosen before login survives it.
    session.clear()
    session.permanent = True
    session[SESSION_ID] = session_id
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.person = person


def log_out() -> None:
    # Deleted server-side first: a copy of the cookie kept elsewhere must stop working too.
    if SESSION_ID in session:
        sessions.log_out(uow_factory(), session[SESSION_ID])
    session.clear()


def current_person() -> Person | None:
    """The logged-in person for this request, looked up once per request in the database, so
    logging out, disabling the person or the session's expiry take effect at once."""
    if "person" not in g:
        session_id = session.get(SESSION_ID)
        person = sessions.session_person(uow_factory(), session_id) if session_id else None
        if session_id and person is None:
            session.clear()  # logged out, disabled or expired since
        g.person = person
    return g.person


def session_principal() -> tuple[str, Role] | None:
    """`ri.session_auth` for the API's auth: the browser session stands in for a token."""
    person = current_person()
    return (person.actor, person.role) if person else None


def csrf_token() -> str:
    """The token every POST form carries; one per session, created on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def forged() -> bool:
    """True when an unsafe request rides on the session cookie without the session's token.

    Requests that a bearer token authenticated are exempt: a browser never adds that header on
    another site's behalf, which is the whole attack.
    """
    if request.method in SAFE_METHODS:
        return False
    if "actor" in g and g.get("person") is None:
        return False  # authenticated by a bearer token
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    return not (expected and sent and hmac.compare_digest(str(sent), str(expected)))
