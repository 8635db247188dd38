"""Which role may do what: admin everything, others only what a view names."""

from __future__ import annotations

import pytest

from returns_inventory.domain.access import Role, allows


@pytest.mark.parametrize("role", list(Role))
def test_every_role_is_allowed_where_it_is_named(role):
    assert allows(role, frozenset({role}))


@pytest.mark.parametrize("role", [Role.GRADER, Role.PLANNER, Role.INTEGRATOR])
def test_a_role_not_named_is_refused(role):
    others = frozenset(Role) - {role, Role.ADMIN}
    assert not allows(role, others)


@pytest.mark.parametrize("role", [Role.GRADER, Role.PLANNER, Role.INTEGRATOR])
def test_nothing_named_means_admin_only(role):
    assert not allows(role, frozenset())
    assert allows(Role.ADMIN, frozenset())


def test_roles_are_stored_by_their_value():
    assert [r.value for r in Role] == ["grader", "planner", "integrator", "admin"]
    assert Role("planner") is Role.PLANNER
