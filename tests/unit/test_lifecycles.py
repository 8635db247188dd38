"""Exchanges, write-offs and suggestions move only along their lifecycle's table."""

from __future__ import annotations

import enum

import pytest

from returns_inventory.domain.errors import Conflict
from returns_inventory.domain.grading import WRITE_OFFS, WriteOffStatus
from returns_inventory.domain.lifecycles import Lifecycle, NotAllowedNow, table
from returns_inventory.domain.replenishment import (
    SUGGESTIONS,
    Seen,
    SuggestionStatus,
    check_decision,
)
from returns_inventory.domain.returns import EXCHANGES, ExchangeStatus

X, W, S = ExchangeStatus, WriteOffStatus, SuggestionStatus


def test_a_new_exchange_is_reserved_or_backordered_and_nothing_else():
    assert [s for s in X if EXCHANGES.allows(None, s)] == [X.RESERVED, X.BACKORDERED]


def test_only_a_reserved_replacement_ships_and_a_shipped_one_stays_shipped():
    assert EXCHANGES.before(X.SHIPPED) == (X.RESERVED,)
    assert not any(EXCHANGES.allows(X.SHIPPED, s) for s in X)


def test_a_held_exchange_is_released_before_it_is_cancelled_or_refunded():
    # Cancelling or refunding never skips the release that gives the stock back.
    assert not EXCHANGES.allows(X.RESERVED, X.CANCELLED)
    assert not EXCHANGES.allows(X.RESERVED, X.REFUNDED)
    assert EXCHANGES.allows(X.RELEASED, X.CANCELLED) and EXCHANGES.allows(X.RELEASED, X.REFUNDED)


def test_a_refused_move_is_a_conflict_naming_both_states():
    with pytest.raises(NotAllowedNow) as refused:
        EXCHANGES.check("shipped", X.RESERVED, name="7")
    assert isinstance(refused.value, Conflict)
    assert str(refused.value) == "exchange 7 is shipped; it cannot become reserved"


def test_only_a_posted_write_off_is_reversed_and_only_a_pending_one_is_decided():
    assert WRITE_OFFS.before(W.REVERSED) == (W.POSTED,)
    assert WRITE_OFFS.before(W.REJECTED) == (W.PENDING_APPROVAL,)
    for final in (W.REJECTED, W.SUPERSEDED, W.REVERSED):
        assert not any(WRITE_OFFS.allows(final, s) for s in W)


def test_a_run_supersedes_only_undecided_suggestions_and_discards_only_proposed_ones():
    assert SUGGESTIONS.before(S.SUPERSEDED) == (S.PROPOSED, S.EDITED)
    assert SUGGESTIONS.before(S.DISCARDED) == (S.PROPOSED,)


@pytest.mark.parametrize(("status", "action", "words"), [
    ("superseded", "edit", "replaced by a newer forecast run"),
    ("discarded", "approve", "belongs to a discarded forecast run"),
    ("approved", "edit", "is already approved"),
])
def test_a_decision_the_lifecycle_refuses_says_why(status, action, words):
    with pytest.raises(Conflict, match=words):
        check_decision(Seen(3, status, 1, None, None), action, 1)


def test_a_state_left_out_of_the_table_fails_when_the_module_loads():
    class Light(enum.StrEnum):
        ON = "on"
        OFF = "off"

    with pytest.raises(ValueError, match="off"):
        Lifecycle("light", Light, frozenset({Light.ON}), table({Light.ON: {Light.OFF}}))
