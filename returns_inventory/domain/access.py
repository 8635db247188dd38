"""Roles and what each may do."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    GRADER = "grader"
    PLANNER = "planner"
    INTEGRATOR = "integrator"
    ADMIN = "admin"


def allows(role: Role, required: frozenset[Role]) -> bool:
    """An admin may do everything; otherwise the role must be among those named."""
    return role is Role.ADMIN or role in required
