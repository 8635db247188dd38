"""Every request's steps around its view: one before_request and one after_request hook.

Flask runs each hook it is given through machinery of its own (the app's and each blueprint's
lists, `ensure_sync`), and each hook reached the request again through its proxy: with a hook
per concern, a grade paid more for the hooks than for most of their work. The steps are the
modules' own functions, in this order:

- before the view: the request id and clock (observability), the body's size limit, who is
  asking (http.auth), NUL characters anywhere in the request (api.text_input), the
  Idempotency-Key's claim (api.idempotency), the browser session's form token (web.pages).
  The first step that answers ends the list, and the view does not run.
- after it, on whatever answered (a step, the view or an error handler): pages for people at
  a browser (web.pages), the idempotent answer kept (api.idempotency), the log line and the
  metrics of the final status (observability), and last the security headers (web.headers),
  so they are on the response that is sent whichever step replaced it.
"""

from __future__ import annotations

from flask import Flask, Response

from . import http, observability
from .api import idempotency, text_input
from .http import auth
from .web import headers, pages

BEFORE_VIEW = (
    observability.start_request,
    http.limit_body_size,
    auth.authenticate_request,
    text_input.refuse_nul_characters,
    idempotency.claim,
    pages.refuse_forged_requests,
)
AFTER_VIEW = (
    pages.answer_browsers,
    idempotency.store,
    observability.finish_request,
    headers.add_security_headers,
)


def before_view() -> Response | None:
    for step in BEFORE_VIEW:
        answer = step()
        if answer is not None:
            return answer
    return None


def after_view(response: Response) -> Response:
    for step in AFTER_VIEW:
        response = step(response)
    return response


def init_app(app: Flask) -> None:
    """The only before_request and after_request hooks of the app (idempotency keeps its
    teardown, which runs even when the request failed)."""
    app.before_request(before_view)
    app.after_request(after_view)
