"""Domain errors. The API maps each class to one HTTP status in a single table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of every rule the warehouse refuses to break."""

    title = "Request refused"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


@dataclass(frozen=True)
class FieldError:
    """One bad field: where it is (row for imports, field name) and why it is bad."""

    field: str
    reason: str
    row: int | None = None

    def to_dict(self) -> dict:
        out: dict[str, str | int] = {"field": self.field, "reason": self.reason}
        if self.row is not None:
            out["row"] = self.row
        return out


def line_field(row: int | None, name: str) -> str:
    """A field of a request's line n, named as schema errors name it: `lines.n.name`
    (0-based, as the array is indexed)."""
    return name if row is None else f"lines.{row}.{name}"


class ValidationFailed(DomainError):
    title = "Validation failed"


class Refused(DomainError):
    """A business rule (policy) said no; the problem document names the rule."""

    title = "Refused by policy"


class Unauthenticated(DomainError):
    """The credentials the request came with are no longer valid (a revoked token)."""

    title = "Unauthorized"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class InsufficientStock(Conflict):
    title = "Insufficient stock"


class TooManyAttempts(DomainError):
    """Too many failed logins in the window: no more tries until `retry_after` seconds pass."""

    title = "Too many failed logins"

    def __init__(self, detail: str, *, retry_after: int, **extra):
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class IdempotencyMismatch(DomainError):
    title = "Idempotency key reused with a different request"


def present(value: T | None, what: str) -> T:
    """``value``, which the caller knows exists: read under a lock it holds, or written by
    its own transaction. A None here is a bug, not a user's mistake."""
    if value is None:
        raise LookupError(f"{what} is missing inside the transaction that relies on it")
    return value
