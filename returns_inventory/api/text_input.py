"""One check for NUL characters in everything a request brings, before any view reads it.

Query arguments, form fields and file names, JSON strings (and keys), path segments and
headers: a NUL in any of them is refused naming where it is. The API answers a 422 problem
like any other field error; a page answers a 400 page in words (its blueprint's handler for
HTTP errors). Import files stream past this check; their cells are checked as they are read
(services/import_formats.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import request
from werkzeug.exceptions import BadRequest

from ..domain.text import NUL, NUL_REASON, has_nul
from ..http.body import accepts_large_body

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# In a JSON document a NUL is either the escape \u0000 or (invalid JSON) a raw zero byte; a
# body with neither is not parsed here at all.
_NUL_IN_JSON = (b"\\u0000", NUL.encode())


class NulInRequest(BadRequest):
    """Carries webargs' `messages` shape, so problems.py names each field as it does for
    validation errors."""

    def __init__(self, found: list[tuple[str, str]]):
        names = ", ".join(name for _, name in found)
        super().__init__(
            f"What you sent as {names} holds a NUL character (an invisible control code), "
            "which no text here may hold. Type or scan it again."
        )
        messages: dict[str, dict[str, list[str]]] = {}
        for location, name in found:
            messages.setdefault(location, {})[name] = [NUL_REASON]
        self.data = {"messages": messages}


def refuse_nul_characters() -> None:
    if request.routing_exception is not None:
        return  # an unknown URL answers 404 whatever it holds
    found = [*_in_form(), *_in_json()]
    if _may_hold_nul(request.environ):
        found = [*_in_path(), *_in_headers(), *_in_query(), *found]
    if found:
        raise NulInRequest(found)


def _may_hold_nul(environ: dict) -> bool:
    """Whether the path, the headers or the query string may hold a NUL: one look at the
    environ's text (the server decodes the path; the query string is still percent-encoded),
    so that a request without one (nearly all) is not taken apart name by name."""
    if "%00" in environ.get("QUERY_STRING", ""):
        return True
    return any(NUL in key or (isinstance(value, str) and NUL in value)
               for key, value in environ.items())


def _in_path() -> Iterator[tuple[str, str]]:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_nul(value):
            yield "view_args", name


def _in_headers() -> Iterator[tuple[str, str]]:
    for name, value in request.headers.items():
        if has_nul(name) or has_nul(value):
            yield "headers", name


def _in_query() -> Iterator[tuple[str, str]]:
    for name, value in request.args.items(multi=True):
        if has_nul(name) or has_nul(value):
            yield "query", name


def _in_form() -> Iterator[tuple[str, str]]:
    # Imports stream their own body; reading it as a form here would consume it.
    if request.mimetype not in FORM_TYPES or accepts_large_body():
        return
    for name, value in request.form.items(multi=True):
        if has_nul(name) or has_nul(value):
            yield "form", name
    for name, upload in request.files.items(multi=True):
        if has_nul(name) or has_nul(upload.filename or ""):
            yield "files", name


def _in_json() -> Iterator[tuple[str, str]]:
    if not request.is_json or accepts_large_body():
        return
    data = request.get_data(cache=True)  # webargs reads the same cached bytes afterwards
    if not any(mark in data for mark in _NUL_IN_JSON):
        return
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return  # malformed JSON: the view's parser answers that
    for path in _json_paths(document):
        yield "json", path


def _json_paths(document) -> Iterator[str]:
    """Dotted paths (`lines.0.sku`, as schema errors name fields) of strings holding a NUL.
    Iterative: a deeply nested document must not exhaust the stack here."""
    stack = [("", document)]  # popped last first, so children are pushed in reverse
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if has_nul(value):
                yield path or "body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                name = f"{path}.{key}" if path else key
                if has_nul(key):
                    yield name
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), value[i])
                         for i in reversed(range(len(value))))

