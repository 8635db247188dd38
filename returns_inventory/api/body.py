"""The request body, read once: hashed for idempotency and spooled to disk when large."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO

from flask import g, request

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
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        size = 0
        stream = request.stream
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        g.spooled_body = SpooledBody(spool, digest.hexdigest(), size)
    return g.spooled_body


def request_fingerprint() -> str:
    """Method, path, query and body: what makes two requests 'the same request'."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.full_path.encode())
    digest.update(spooled_body().sha256.encode())
    return digest.hexdigest()
