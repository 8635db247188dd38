"""The one table of moves a stateful record may make, and the one check of it.

Exchanges, write-offs and replenishment suggestions each keep their state as an enum (stored by
value) and a ``Lifecycle``: which states a new record may start in, and from each state the
states it may move to. The code that writes a new state asks the lifecycle first, so a move the
table does not list fails loudly instead of leaving a record in a state nobody planned for.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import Conflict

S = TypeVar("S", bound=enum.StrEnum)


class NotAllowedNow(Conflict):
    title = "Not allowed in its current state"


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A state machine: ``starts`` and ``moves`` (state -> states it may become)."""

    thing: str
    states: type[S]
    starts: frozenset[S]
    moves: Mapping[S, frozenset[S]]

    def __post_init__(self) -> None:
        # Every state has a row, even a final one, so a state added to the enum and forgotten
        # here is caught when the module loads, not by a record stuck in it.
        missing = set(self.states) - set(self.moves)
        if missing:
            raise ValueError(f"{self.thing}: no moves listed for {sorted(missing)}")

    def allows(self, was: str | None, becomes: S) -> bool:
        """Whether a record in state ``was`` (None: not written yet) may become ``becomes``."""
        if was is None:
            return becomes in self.starts
        return becomes in self.moves.get(self.states(was), frozenset())

    def check(self, was: str | None, becomes: S, *, name: str = "") -> S:
        """``becomes``, or NotAllowedNow naming the record and both states."""
        if not self.allows(was, becomes):
            which = f"{self.thing} {name}".strip()
            raise NotAllowedNow(f"{which} is {was or 'new'}; it cannot become {becomes}",
                                status=was, wanted=str(becomes))
        return becomes

    def before(self, becomes: S) -> tuple[S, ...]:
        """The states that may become ``becomes``, in the enum's order (for bulk updates)."""
        return tuple(s for s in self.states if becomes in self.moves[s])

    def choices(self, only: Iterable[S] | None = None) -> list[str]:
        """Values for a schema's choice list: every state, or ``only`` those."""
        return [s.value for s in (only if only is not None else self.states)]


def table(rows: Mapping[S, Iterable[S]]) -> dict[S, frozenset[S]]:
    return {state: frozenset(after) for state, after in rows.items()}
