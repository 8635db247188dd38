"""Reading numbers typed into forms and query strings."""

from __future__ import annotations

# The database's integer columns are 32-bit: a larger number cannot name a row or a quantity,
# and sending it would fail in the database (SQLite overflows past 64 bits) as a server error.
LARGEST = 2**31 - 1


def whole_number(text: str | None, default: int | None = None) -> int | None:
    """The text as a whole number the database can hold, or `default` when it is not one."""
    try:
        value = int((text or "").strip())
    except ValueError:
        return default
    return value if -LARGEST - 1 <= value <= LARGEST else default


def page_number(text: str | None) -> int:
    """A 1-based page number; anything else is the first page."""
    return max(1, whole_number(text, 1))
