"""Text that no field may hold, however it arrives: a request, a form, an import file."""

from __future__ import annotations

# PostgreSQL text cannot store U+0000 (a query binding one fails there as a server error), and
# no person or ERP means one: wherever it arrives, it is refused naming the field.
NUL = "\x00"
NUL_REASON = "contains a NUL character (U+0000), which no text here may hold"


def has_nul(text: str) -> bool:
    return NUL in text
