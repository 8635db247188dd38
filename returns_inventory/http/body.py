"""The request body, read once: hashed for idempotency and spooled to disk when large."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO

from flask import current_app, g, request

SPOOL_IN_MEMORY = 8 * 1024 * 1024
CHUNK = 1024 * 1024


@dataclass
class SpooledBody:
    file: IO[bytes]
    sha256: str
    size: int

    def rewind(self) -> IO[bytes]:
        self.file.seek(0)
        return self.file


def spooled_body() -> SpooledBody:
    """Read the request stream once into a spooled temp file (memory stays bounded)."""
    if "spooled_body" not in g:
        digest = hashlib.sha256()
        # Handed to the view in g and closed with the request's memory, hence no `with`.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        size = 0
        stream = request.stream
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        g.spooled_body = SpooledBody(spool, digest.hexdigest(), size)
    return g.spooled_body


def large_body(view):
    """Let a view stream bodies up to max_import_bytes instead of max_request_bytes."""
    view.accepts_large_body = True
    return view


def sized_body(limit):
    """Let a view accept bodies up to `limit()` bytes (a callable: policies are read late)."""

    def mark(view):
        view.body_limit = limit
        return view

    return mark


def body_limit(default: int) -> int | None:
    """The most this request's view accepts; None means MAX_CONTENT_LENGTH (streamed imports)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "body_limit", None) is not None:
        return view.body_limit()
    return None if getattr(view, "accepts_large_body", False) else default


def accepts_large_body() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "accepts_large_body", False)


def body_sha256() -> str:
    """Hash the body without taking it away from the view that parses it."""
    if accepts_large_body():
        return spooled_body().sha256  # streaming views read the spool, never request.data
    # Small bodies are cached on the request, so webargs' get_json() still sees them.
    return hashlib.sha256(request.get_data(cache=True)).hexdigest()


def request_fingerprint() -> str:
    """Method, path, query and body: what makes two requests 'the same request'."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.full_path.encode())
    digest.update(body_sha256().encode())
    return digest.hexdigest()
