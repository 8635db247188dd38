"""Byte streams that stop a hostile import file before it costs memory or the process.

Each sits between the file (decompressed) and a parser, and raises Unreadable, which the
reader turns into a refusal naming the row it reached.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import IO, Any

from ..domain.text import NUL

# No column holds a number anywhere near this long; the C JSON parser crashes the process on
# integers of more than 4,300 digits (Python's int conversion limit), so longer runs of digits
# never reach it.
MAX_DIGITS = 1000
_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_DIGITS + 1))
_TRAILING_DIGITS = re.compile(rb"[0-9]*\Z")
_NUL_BYTE = NUL.encode()
_NUL_ESCAPE = b"\\u0000"  # how a JSON string holds a NUL (a raw zero byte is invalid JSON)


class Unreadable(Exception):
    """The file cannot be read on; the reason says why."""


class Meter(io.RawIOBase):
    """Counts the bytes passing through: for a progress bar, or to stop a gzip bomb."""

    def __init__(
        self,
        inner: IO[bytes],
        *,
        on_read: Callable[[int], Any] | None = None,
        limit: int | None = None,
    ):
        self.inner, self.on_read, self.limit, self.count = inner, on_read, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.limit is not None and self.count > self.limit:
            raise Unreadable(f"the decompressed file is larger than {self.limit} bytes")
        if self.on_read and n:
            self.on_read(n)
        return n


class DigitGuard(io.RawIOBase):
    """Refuses a run of more than MAX_DIGITS digits, even one split between two reads."""

    def __init__(self, inner: IO[bytes]):
        self.inner, self.carried = inner, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        if _DIGITS.search(self.carried + data):
            raise Unreadable(f"a number of more than {MAX_DIGITS} digits")
        trailing = _TRAILING_DIGITS.search(data) if n else None
        self.carried = trailing.group() if trailing else b""
        buffer[:n] = data
        return n


class RowBound(io.RawIOBase):
    """Refuses a row longer than `limit` bytes before the reader above has buffered it whole.

    The csv module and ijson ask for more bytes only once they have used up what they hold,
    and the reader marks where each row ends: so at every read, all the bytes since that mark
    belong to the row being read, and more than `limit` of them is a row too long. Memory
    stays within the limit and one read, whatever the file. It also notes whether the file
    may hold a NUL at all (a zero byte, or JSON's escape for one), so that rows are only
    searched for one when it does.
    """

    def __init__(self, inner: IO[bytes], limit: int | None):
        self.inner, self.limit = inner, limit
        self.count = self.row_start = 0
        self.may_hold_nul = False
        self._tail = b""  # an escape may be split between two reads

    def readable(self) -> bool:
        return True

    def row_ended(self) -> None:
        self.row_start = self.count

    def readinto(self, buffer) -> int:
        if self.limit is not None and self.count - self.row_start > self.limit:
            raise Unreadable(f"a row longer than {self.limit} bytes, the most one row may take")
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if not self.may_hold_nul:
            self.may_hold_nul = (_NUL_BYTE in data or _NUL_ESCAPE in data
                                 or _NUL_ESCAPE in self._tail + data[:5])
            self._tail = (self._tail + data[-5:])[-5:]
        return n
