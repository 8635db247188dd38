"""What the JSON API and the pages share: who is asking, the problem document and the one
table of statuses, request body limits, schemas and paging. Both entry points import it;
it imports neither of them."""

from __future__ import annotations

from flask import Flask, request

from ..extensions import settings
from . import auth, problems
from .body import body_limit
from .problems import problem


def init_app(app: Flask) -> None:
    """Who is asking; the body size (first, cheap) and the auth steps run in hooks.py."""
    auth.init_app(app)


def answer_with_problems(app: Flask) -> None:
    """Every error as a problem document (the pages answer theirs as pages). After the API's
    init_app: flask-smorest registers an HTTPException handler of its own there, and the
    later registration is the one Flask uses."""
    problems.init_app(app)


def limit_body_size():
    limit = body_limit(settings().max_request_bytes)
    if limit is None:
        return None  # bulk imports stream their body; MAX_CONTENT_LENGTH bounds them
    # Also bounds bodies sent without Content-Length (chunked): werkzeug stops reading at
    # the limit and raises 413, which problems.py turns into the same problem document.
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        return problem(
            413, "Content Too Large", f"request bodies here are limited to {limit} bytes",
            slug="content-too-large",
        )
    return None
