"""A person's remembered choices in the pages, such as which columns a table shows."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.errors import FieldError, ValidationFailed
from ..persistence.uow import UowFactory


def chosen_columns(uow_factory: UowFactory, actor: str, name: str, *, known: Sequence[str],
                   default: Sequence[str]) -> list[str]:
    """The columns this person chose, in their order; the default until they choose.
    Columns that no longer exist are dropped rather than breaking the page."""
    with uow_factory() as uow:
        stored = uow.preferences.get(actor, name)
    chosen = [c for c in (stored or []) if c in known]
    return chosen or list(default)


def choose_columns(uow_factory: UowFactory, actor: str, name: str, columns: Sequence[str], *,
                   known: Sequence[str]) -> list[str]:
    """Remember the columns and their order for this person."""
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValidationFailed(f"unknown column {unknown[0]!r}",
                               errors=[FieldError("columns", "one of " + ", ".join(known))])
    chosen = list(dict.fromkeys(columns))
    if not chosen:
        raise ValidationFailed("Choose at least one column.",
                               errors=[FieldError("columns", "at least one")])
    with uow_factory() as uow:
        uow.preferences.put(actor, name, chosen)
        uow.commit()
    return chosen


def forget_columns(uow_factory: UowFactory, actor: str, name: str) -> None:
    """Back to the default columns."""
    with uow_factory() as uow:
        uow.preferences.put(actor, name, [])
        uow.commit()
