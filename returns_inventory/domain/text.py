"""Text that no field may hold, however it arrives: a request, a form, an import file."""

from __future__ import annotations

from .errors import FieldError, ValidationFailed

# PostgreSQL text cannot store U+0000 (a query binding one fails there as a server error), and
# no person or ERP means one: wherever it arrives, it is refused naming the field.
NUL = "\x00"
NUL_REASON = "contains a NUL character (U+0000), which no text here may hold"


def has_nul(text: str) -> bool:
    return NUL in text


# An item's category is at most this long (items.category): a longer one names no category,
# and the returns analytics keep a report's categories in a column this size allows for.
MAX_CATEGORY_CHARS = 64


# Notes and comments people type (a grader's note, a planner's comment): long enough for a
# paragraph, short enough to show on one screen. The API and the pages refuse longer ones
# alike, naming the field, rather than one refusing and the other cutting them short.
MAX_NOTE_CHARS = 2000


def check_note(text: str | None, field: str) -> str | None:
    """``text`` if it fits MAX_NOTE_CHARS; ValidationFailed naming ``field`` otherwise."""
    if text is not None and len(text) > MAX_NOTE_CHARS:
        raise ValidationFailed(
            f"the {field} is {len(text)} characters; at most {MAX_NOTE_CHARS} are kept",
            errors=[FieldError(field, f"at most {MAX_NOTE_CHARS} characters")])
    return text
