"""Concurrency proofs with real threads on a real, committing database (SQLite and PostgreSQL).

On PostgreSQL the threads really overlap and the row locks do the work; on SQLite every writer
queues on BEGIN IMMEDIATE, which the same assertions must survive.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from returns_inventory.domain.errors import Conflict
from returns_inventory.domain.grading import AlreadyGraded
from returns_inventory.domain.returns import ReturnRefused
from returns_inventory.http.problems import STATUS_BY_ERROR
from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.returns_tables import exchanges, return_lines, returns
from returns_inventory.persistence.tables import (
    ledger_movements,
    locations,
    outbox_events,
    sales_lines,
    stock_balances,
)
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.exchanges import (
    ExchangeUnavailable,
    release_expired_reservations,
    ship_exchange,
)
from returns_inventory.services.grading import grade_unit, regrade_unit
from returns_inventory.services.grading_batch import UnitGrade, grade_units
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import (
    ReturnLineRequest,
    ReturnView,
    authorize_return,
    cancel_return,
)
from returns_inventory.services.settlement import settle_all, settle_waiting
from returns_inventory.services.stock import verify_ledger
from returns_inventory.services.unit_outcomes import GradingResult
from returns_inventory.services.write_offs import decide_write_off
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, refund_policy, stock_up

THREADS = 20


@pytest.fixture(scope="module")
def policies():
    # Refunded on receipt, and answered per unit: every receipt of a refund line and every
    # grade of a returned unit then makes exactly one event the mix below can count.
    shipped = refund_policy(Policies.from_settings(Settings.load(env={})), "on_receipt")
    return replace(shipped, inspection=replace(shipped.inspection, inspected_event="per_unit"))


@pytest.fixture
def uow_factory(committing_db):
    """Units of work on a committing database whose pool lets every thread hold a connection."""
    url = committing_db.engine.url.render_as_string(hide_password=False)
    database = Database(make_engine(url, pool_size=THREADS + 5, max_overflow=5))
    # Open the connections up front so the threads meet at the barrier, not at connect().
    warm = [database.engine.connect() for _ in range(THREADS)]
    for connection in warm:
        connection.close()
    yield partial(UnitOfWork, database)
    database.dispose()


def at_once(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..count-1) in as many threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the test sorts outcomes itself
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return outcomes


def outbox(uow_factory) -> Counter:
    with uow_factory() as uow:
        rows = uow.connection.execute(
            select(outbox_events.c.event_type, func.count()).group_by(outbox_events.c.event_type)
        )
        return Counter({r[0]: r[1] for r in rows})


def balance(uow_factory, sku, size, location, condition) -> tuple[int, int]:
    with uow_factory() as uow:
        rows, _ = uow.stock.list_balances(
            offset=0, limit=1, sku=sku, size=size, location=location, condition=condition
        )
    return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)


def _status(exc: Exception) -> int:
    return next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))


def unexpected(outcomes, *expected: type) -> list[object]:
    return [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, expected)]


# --- one unit, twenty benches ---------------------------------------------------------------


def test_twenty_benches_grading_one_unit_at_once_grade_it_exactly_once(uow_factory, policies):
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-1", quantity=1)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1, reason="other")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="grader")
    before = outbox(uow_factory)

    # Different benches pick different grades: whichever wins decides where the unit goes.
    grades = "ABCD"
    outcomes = at_once(THREADS, lambda i: grade_unit(
        uow_factory, policies, unit_id=unit.unit_id, grade=grades[i % 4], actor=f"bench-{i}"))

    assert unexpected(outcomes, AlreadyGraded) == []
    [winner] = [o for o in outcomes if isinstance(o, GradingResult)]
    assert sum(isinstance(o, AlreadyGraded) for o in outcomes) == THREADS - 1
    assert all(_status(o) == 409 for o in outcomes if isinstance(o, AlreadyGraded))
    target = winner.condition
    for condition in ("quarantine", "sellable", "second_quality", "repair"):
        expected = 1 if condition == target else 0
        assert balance(uow_factory, "TEE-BLK", "M", "WH1", condition) == (expected, 0)
    with uow_factory() as uow:
        moves = uow.stock.list_movements(after=None, limit=100, reference=unit.unit_id)
        gradings = uow.units.gradings_of(uow.units.unit(unit.unit_id).id)
    # One receipt, then exactly one move out of quarantine (and one in, unless written off).
    assert len(moves) == (2 if target is None else 3)
    assert len(gradings) == 1
    assert verify_ledger(uow_factory) == []
    events = outbox(uow_factory) - before
    assert events["unit.graded"] == 1
    assert events["stock.restocked"] + events["stock.written_off"] <= 1


# --- two requests for the same sold line ----------------------------------------------------


def test_concurrent_returns_of_one_line_never_authorize_more_than_was_sold(
        uow_factory, policies):
    sold = 2
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    authorized_total = refused_total = 0
    for n, quantities in enumerate([(2, 1), (1,) * 8, (2, 2, 1, 1), (1, 2) * 4]):
        order = f"SO-{n}"
        add_sale(uow_factory, item_id, location_id, order_ref=order, quantity=sold)

        outcomes = at_once(len(quantities), lambda i, order=order, quantities=quantities:
                           authorize_return(uow_factory, policies, order_ref=order,
                                            actor=f"erp-{i}", lines=[ReturnLineRequest(
                                                line_ref="1", quantity=quantities[i],
                                                reason="too_small")]))

        assert unexpected(outcomes, ReturnRefused) == []
        authorized = [q for q, o in zip(quantities, outcomes, strict=True)
                      if isinstance(o, ReturnView)]
        refused = [o for o in outcomes if isinstance(o, ReturnRefused)]
        assert 0 < sum(authorized) <= sold
        assert {r.rule for r in refused} == {"quantity"}
        # Whatever the order, a refused request could not have fitted into what was left.
        left = sold - sum(authorized)
        assert all(q > left for q, o in zip(quantities, outcomes, strict=True)
                   if isinstance(o, ReturnRefused))
        with uow_factory() as uow:
            line = uow.returns.sold_line(order, "1")
            assert uow.returns.claimed_quantity(line.sales_line_id) == sum(authorized)
        authorized_total += len(authorized)
        refused_total += len(refused)
    events = outbox(uow_factory)
    assert events["return.authorized"] == authorized_total
    assert events["return.rejected"] == refused_total


def test_two_returns_of_one_order_naming_its_lines_in_opposite_orders_do_not_deadlock(
        uow_factory, policies):
    """Locks on sold lines are taken in one order, whatever order the request lists them in."""
    tee = add_item(uow_factory, "TEE-BLK", "M")
    jean = add_item(uow_factory, "JEAN-IND", "32")
    location_id = add_location(uow_factory, "WH1")
    for round_ in range(10):
        order = f"SO-{round_}"
        add_sale(uow_factory, tee, location_id, order_ref=order, line_ref="1", quantity=2)
        add_sale(uow_factory, jean, location_id, order_ref=order, line_ref="2", quantity=2)
        refs = (["1", "2"], ["2", "1"])
        outcomes = at_once(2, lambda i, order=order, refs=refs: authorize_return(
            uow_factory, policies, order_ref=order, actor="erp", lines=[
                ReturnLineRequest(line_ref=ref, quantity=1, reason="other") for ref in refs[i]]))
        assert unexpected(outcomes) == []


def test_receiving_two_returns_whose_lines_list_items_in_opposite_orders_does_not_deadlock(
        uow_factory, policies):
    tee = add_item(uow_factory, "TEE-BLK", "M")
    jean = add_item(uow_factory, "JEAN-IND", "32")
    location_id = add_location(uow_factory, "WH1")
    for round_ in range(10):
        rmas = []
        for n, items in enumerate(((tee, jean), (jean, tee))):
            order = f"SO-{round_}-{n}"
            for line_ref, item in enumerate(items, start=1):
                add_sale(uow_factory, item, location_id, order_ref=order,
                         line_ref=str(line_ref), quantity=1)
            rmas.append(authorize_return(uow_factory, policies, order_ref=order, actor="erp",
                                         lines=[ReturnLineRequest(line_ref="1", quantity=1,
                                                                  reason="other"),
                                                ReturnLineRequest(line_ref="2", quantity=1,
                                                                  reason="other")]).rma)
        outcomes = at_once(2, lambda i, rmas=rmas: receive_units(
            uow_factory, rma=rmas[i], location="WH1", actor="grader",
            lines=[{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}]))
        assert unexpected(outcomes) == []
    assert verify_ledger(uow_factory) == []


def test_exchanges_reserving_two_items_in_opposite_orders_do_not_deadlock(
        uow_factory, policies):
    tee = add_item(uow_factory, "TEE", "M")
    jean = add_item(uow_factory, "JEAN", "32")
    add_item(uow_factory, "TEE", "L")
    add_item(uow_factory, "JEAN", "34")
    location_id = add_location(uow_factory, "WH1")
    stock_up(uow_factory, "TEE", "L", "WH1", 100)
    stock_up(uow_factory, "JEAN", "34", "WH1", 100)
    exchange = {"1": "L", "2": "34"}
    for round_ in range(10):
        for n in (0, 1):
            add_sale(uow_factory, tee, location_id, order_ref=f"SO-{round_}-{n}", line_ref="1")
            add_sale(uow_factory, jean, location_id, order_ref=f"SO-{round_}-{n}", line_ref="2")
        refs = (["1", "2"], ["2", "1"])
        outcomes = at_once(2, lambda i, round_=round_, refs=refs: authorize_return(
            uow_factory, policies, order_ref=f"SO-{round_}-{i}", actor="erp", lines=[
                ReturnLineRequest(line_ref=ref, quantity=1, reason="too_small",
                                  resolution="exchange", exchange_size=exchange[ref])
                for ref in refs[i]]))
        assert unexpected(outcomes) == []
        # ... and cancelling both at once releases them without deadlock either.
        outcomes = at_once(2, lambda i, views=outcomes: cancel_return(
            uow_factory, rma=views[i].rma, actor="erp"))
        assert unexpected(outcomes) == []
    assert balance(uow_factory, "TEE", "L", "WH1", "sellable") == (100, 0)
    assert verify_ledger(uow_factory) == []


def test_a_replacement_shipping_while_its_return_is_cancelled_is_either_shipped_or_cancelled(
        uow_factory, policies, backend, monkeypatch):
    """The cancel had read the exchange "reserved"; the replacement shipped before the cancel
    released it, and the cancel then marked the shipped exchange "cancelled" (the 500-operation
    mix below caught it). Now a cancel that finds the replacement shipped is refused whole."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer at a time: the cancel's stale read cannot commit")
    import returns_inventory.services.returns as returns_service

    tee = add_item(uow_factory, "TEE", "M")
    add_item(uow_factory, "TEE", "L")
    location_id = add_location(uow_factory, "WH1")
    stock_up(uow_factory, "TEE", "L", "WH1", 5)
    add_sale(uow_factory, tee, location_id, order_ref="SO-1", line_ref="1")
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small",
                          resolution="exchange", exchange_size="L")])
    [exchange_id] = [ex["id"] for ex in view.exchanges]
    shipping: list[object] = []
    release = returns_service.release_reservation

    def ship_meanwhile(uow, exchange_id, **kwargs):
        # The warehouse ships while the cancel is between its read and its release.
        def ship():
            try:
                shipping.append(ship_exchange(uow_factory, exchange_id=exchange_id, actor="wh"))
            except Conflict as refused:
                shipping.append(refused)
        shipper = threading.Thread(target=ship)
        shipper.start()
        shipper.join(1.0)  # done unless it waits for the cancel's lock
        shipping.append(shipper)
        return release(uow, exchange_id, **kwargs)

    monkeypatch.setattr(returns_service, "release_reservation", ship_meanwhile)
    try:
        cancel_return(uow_factory, rma=view.rma, actor="erp")
        cancelled = True
    except Conflict:
        cancelled = False
    shipper = next(s for s in shipping if isinstance(s, threading.Thread))
    shipper.join(30)
    shipped = any(isinstance(s, dict) for s in shipping)
    with uow_factory() as uow:
        status = uow.connection.execute(
            select(exchanges.c.status).where(exchanges.c.id == exchange_id)).scalar_one()
    assert (cancelled, shipped) in {(True, False), (False, True)}
    assert status == ("cancelled" if cancelled else "shipped")
    assert verify_ledger(uow_factory) == []


def test_regrades_moving_units_between_two_conditions_in_opposite_directions_do_not_deadlock(
        uow_factory, policies):
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    for round_ in range(10):
        order = f"SO-{round_}"
        add_sale(uow_factory, item_id, location_id, order_ref=order, quantity=2)
        view = authorize_return(uow_factory, policies, order_ref=order, actor="erp",
                                lines=[ReturnLineRequest(line_ref="1", quantity=2,
                                                         reason="other")])
        first, second = receive_units(uow_factory, rma=view.rma, location="WH1",
                                      lines=[{"line_no": 1, "quantity": 2}], actor="grader")
        grade_unit(uow_factory, policies, unit_id=first.unit_id, grade="A", actor="grader")
        grade_unit(uow_factory, policies, unit_id=second.unit_id, grade="C", actor="grader")
        # sellable -> repair and repair -> sellable, at once.
        moves = [(first.unit_id, "C"), (second.unit_id, "A")]
        outcomes = at_once(2, lambda i, moves=moves: regrade_unit(
            uow_factory, policies, unit_id=moves[i][0], grade=moves[i][1],
            reason="second look", actor="supervisor"))
        assert unexpected(outcomes) == []
    assert verify_ledger(uow_factory) == []


def test_approving_a_write_off_while_its_unit_is_regraded_does_not_deadlock(
        uow_factory, policies):
    """Both lock the unit before the write-off, so one waits for the other."""
    item_id = add_item(uow_factory, "COAT-GRY", "M", unit_cost="180.00", category="outerwear")
    location_id = add_location(uow_factory, "WH1")
    before = outbox(uow_factory)
    approved = 0
    for round_ in range(10):
        order = f"SO-{round_}"
        add_sale(uow_factory, item_id, location_id, order_ref=order, quantity=1)
        view = authorize_return(uow_factory, policies, order_ref=order, actor="erp",
                                lines=[ReturnLineRequest(line_ref="1", quantity=1,
                                                         reason="other")])
        [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                               lines=[{"line_no": 1, "quantity": 1}], actor="grader")
        pending = grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="D",
                             defects=["tear"], actor="grader")
        assert pending.awaiting_approval
        work = (
            lambda write_off_id=pending.write_off_id: decide_write_off(
                uow_factory, write_off_id=write_off_id, approve=True, actor="admin"),
            lambda unit=unit: regrade_unit(uow_factory, policies, unit_id=unit.unit_id,
                                           grade="A", reason="a loose thread",
                                           actor="supervisor"),
        )
        outcomes = at_once(2, lambda i, work=work: work[i]())
        assert unexpected(outcomes, Conflict) == []
        # The re-grade always lands; the approval only when it came first.
        assert isinstance(outcomes[1], GradingResult)
        approved += isinstance(outcomes[0], GradingResult)
        assert balance(uow_factory, "COAT-GRY", "M", "WH1", "sellable") == (round_ + 1, 0)
    events = outbox(uow_factory) - before
    # An approval the re-grade overtook was written off and then taken back.
    assert events["stock.written_off"] == events["stock.write_off_reversed"] == approved
    assert verify_ledger(uow_factory) == []


def test_totes_of_different_units_listing_items_in_opposite_orders_do_not_deadlock(
        uow_factory, policies):
    location_id = add_location(uow_factory, "WH1")
    skus = ("TEE-BLK", "TEE-WHT", "JEAN-IND")
    by_sku = {}
    for n, sku in enumerate(skus):
        item_id = add_item(uow_factory, sku, "M")
        add_sale(uow_factory, item_id, location_id, order_ref=f"SO-{n}", quantity=6)
        view = authorize_return(uow_factory, policies, order_ref=f"SO-{n}", actor="erp",
                                lines=[ReturnLineRequest(line_ref="1", quantity=6,
                                                         reason="other")])
        by_sku[sku] = [u.unit_id for u in receive_units(
            uow_factory, rma=view.rma, location="WH1",
            lines=[{"line_no": 1, "quantity": 6}], actor="grader")]
    before = outbox(uow_factory)
    # Six benches, one unit of every item each; half list the items one way round, half the
    # other, so taken in the order given their stock locks would cross.
    totes = []
    for bench in range(6):
        order = skus if bench % 2 else tuple(reversed(skus))
        totes.append([UnitGrade(by_sku[sku][bench], "AB"[bench % 2]) for sku in order])

    outcomes = at_once(6, lambda i: grade_units(
        uow_factory, policies, grades=totes[i], actor=f"bench-{i}"))

    assert unexpected(outcomes) == []
    assert [len(o) for o in outcomes] == [3] * 6
    assert (outbox(uow_factory) - before)["unit.graded"] == 18
    for sku in skus:
        assert balance(uow_factory, sku, "M", "WH1", "quarantine") == (0, 0)
        assert balance(uow_factory, sku, "M", "WH1", "sellable") == (3, 0)
        assert balance(uow_factory, sku, "M", "WH1", "second_quality") == (3, 0)
    assert verify_ledger(uow_factory) == []


def test_totes_listing_the_same_units_at_once_grade_each_unit_exactly_once(
        uow_factory, policies):
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-1", quantity=4)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=4, reason="other")])
    units = [u.unit_id for u in receive_units(
        uow_factory, rma=view.rma, location="WH1", lines=[{"line_no": 1, "quantity": 4}],
        actor="grader")]
    tote = [UnitGrade(u, "A") for u in units]
    outcomes = at_once(8, lambda i: grade_units(
        uow_factory, policies, grades=tote if i % 2 else tote[::-1], actor=f"bench-{i}"))
    assert unexpected(outcomes, AlreadyGraded) == []
    assert sum(isinstance(o, list) for o in outcomes) == 1
    assert balance(uow_factory, "TEE-BLK", "M", "WH1", "sellable") == (4, 0)
    assert verify_ledger(uow_factory) == []


# --- 500 random operations ------------------------------------------------------------------

SIZES = {"TEE": ["S", "M", "L", "XL"], "JEAN": ["30", "32", "34"]}
REASONS = ["too_small", "too_large", "quality_defect", "changed_mind", "other"]
DEFECTS = ["stain", "tear", "missing_tag", "odour", "manufacturing_defect"]
RESTOCKING = {"restock_sellable", "restock_second_quality"}


class Mix:
    """The random operations, the shared knowledge the threads build up, and the events each
    successful operation must have written."""

    def __init__(self, uow_factory, policies, orders: list[str]):
        self.uow_factory, self.policies, self.orders = uow_factory, policies, orders
        self.lock = threading.Lock()
        self.returns: dict[str, dict[int, str]] = {}  # rma -> line_no -> resolution
        self.units: list[str] = []
        self.exchanges: list[int] = []
        self.expected: Counter = Counter()
        self.done: Counter = Counter()
        self.failures: list[tuple[str, BaseException]] = []

    def pick(self, rng, things):
        with self.lock:
            return rng.choice(things) if things else None

    def expect(self, op: str, **events: int) -> None:
        with self.lock:
            self.done[op] += 1
            self.expected.update({k.replace("_", ".", 1): v for k, v in events.items()})

    def authorize(self, rng, actor):
        order = rng.choice(self.orders)
        refs = rng.sample(["1", "2"], rng.choice([1, 2]))
        lines = []
        for ref in refs:
            sku = "TEE" if ref == "1" else "JEAN"
            resolution = rng.choices(["refund", "exchange", "repair"], [5, 4, 1])[0]
            lines.append(ReturnLineRequest(
                line_ref=ref, quantity=rng.choice([1, 1, 2]), reason=rng.choice(REASONS),
                resolution=resolution,
                exchange_size=rng.choice(SIZES[sku]) if resolution == "exchange" else None,
                fallback=rng.choice([None, "refund", "backorder"])))
        try:
            view = authorize_return(self.uow_factory, self.policies, order_ref=order,
                                    lines=lines, actor=actor)
        except ReturnRefused as refusal:
            # Only the quantity rule may refuse here: everything else was sent valid.
            assert refusal.rule == "quantity", refusal.detail  # noqa: PT017
            return self.expect("refused", return_rejected=1)
        except ExchangeUnavailable:
            return self.expect("unavailable")
        statuses = Counter(ex["status"] for ex in view.exchanges)
        with self.lock:
            self.returns[view.rma] = {ln["line_no"]: ln["resolution"] for ln in view.lines}
            self.exchanges += [ex["id"] for ex in view.exchanges if ex["status"] == "reserved"]
        self.expect("authorize", return_authorized=1, exchange_reserved=statuses["reserved"],
                    exchange_backordered=statuses["backordered"])

    def receive(self, rng, actor):
        rma = self.pick(rng, list(self.returns))
        if rma is None:
            return
        resolutions = self.returns[rma]
        wanted = rng.sample(sorted(resolutions), len(resolutions))
        try:
            units = receive_units(self.uow_factory, rma=rma, location=rng.choice(["WH1", "ST1"]),
                                  lines=[{"line_no": n, "quantity": 1} for n in wanted],
                                  actor=actor)
        except Conflict:
            return self.expect("receive refused")
        with self.lock:
            self.units += [u.unit_id for u in units]
        refunds = sum(resolutions[n] == "refund" for n in wanted)
        self.expect("receive", unit_received=len(units), refund_due=refunds)

    def grade(self, rng, actor):
        unit = self.pick(rng, self.units)
        if unit is None:
            return
        defects = rng.sample(DEFECTS, rng.choice([0, 0, 1, 2]))
        try:
            result = grade_unit(self.uow_factory, self.policies, unit_id=unit,
                                grade=rng.choice("ABCD"), defects=defects, actor=actor)
        except AlreadyGraded:
            return self.expect("grade refused")
        written_off = result.disposition == "write_off" and not result.awaiting_approval
        self.expect("grade", unit_graded=1, stock_restocked=result.disposition in RESTOCKING,
                    stock_written_off=written_off, return_inspected=1)

    def cancel(self, rng, actor):
        rma = self.pick(rng, list(self.returns))
        if rma is None:
            return
        try:
            view = cancel_return(self.uow_factory, rma=rma, actor=actor)
        except Conflict:
            return self.expect("cancel refused")
        # exchange.released is reconciled against the exchanges' final state (see the test).
        self.expect("cancel", return_cancelled=1)
        assert view.status == "cancelled"

    def ship(self, rng, actor):
        exchange_id = self.pick(rng, self.exchanges)
        if exchange_id is None:
            return
        try:
            ship_exchange(self.uow_factory, exchange_id=exchange_id, actor=actor)
        except Conflict:
            return self.expect("ship refused")
        self.expect("ship", exchange_shipped=1)

    def expire(self, rng, actor):
        from datetime import UTC, datetime, timedelta

        released = release_expired_reservations(
            self.uow_factory, now=datetime.now(UTC) + timedelta(days=30), actor=actor)
        with self.lock:
            self.done["expired"] += released

    OPERATIONS: ClassVar[dict[str, int]] = {
        "authorize": 30, "receive": 25, "grade": 25, "cancel": 8, "ship": 10, "expire": 2}

    def run(self, seed: int, count: int) -> None:
        rng = random.Random(seed)
        names = list(self.OPERATIONS)
        weights = list(self.OPERATIONS.values())
        for n in range(count):
            name = rng.choices(names, weights)[0]
            try:
                getattr(self, name)(rng, f"thread-{seed}")
            except Exception as exc:  # noqa: BLE001 - collected and reported by the test
                with self.lock:
                    self.failures.append((f"op {n} {name}", exc))


def test_500_random_operations_from_several_threads_keep_the_ledger_and_the_outbox_exact(
        uow_factory, policies):
    wh1 = add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store")
    items = {(sku, size): add_item(uow_factory, sku, size)
             for sku, sizes in SIZES.items() for size in sizes}
    # Some replacement stock, scarce enough that exchanges also fall back or run out.
    for (sku, size), location, quantity in [(("TEE", "L"), "WH1", 6), (("TEE", "S"), "ST1", 4),
                                            (("TEE", "XL"), "WH1", 2),
                                            (("JEAN", "32"), "WH1", 5),
                                            (("JEAN", "34"), "ST1", 3)]:
        stock_up(uow_factory, sku, size, location, quantity)
    setup = random.Random(7)
    orders = [f"SO-{n}" for n in range(25)]  # few orders: threads collide on the same lines
    for order in orders:
        add_sale(uow_factory, items["TEE", setup.choice(["S", "M", "L"])], wh1,
                 order_ref=order, line_ref="1", quantity=setup.choice([1, 2, 3]))
        add_sale(uow_factory, items["JEAN", setup.choice(["30", "32"])], wh1,
                 order_ref=order, line_ref="2", quantity=setup.choice([1, 2]))
    before = outbox(uow_factory)

    mix = Mix(uow_factory, policies, orders)
    threads, per_thread = 5, 100
    workers = [threading.Thread(target=mix.run, args=(seed, per_thread))
               for seed in range(threads)]
    stop = threading.Event()

    def settle_meanwhile() -> None:  # the scheduler's settle-refunds job beside the benches
        while not stop.wait(0.05):
            try:
                settle_waiting(uow_factory, policies)
            except Exception as exc:  # noqa: BLE001 - collected and reported by the test
                with mix.lock:
                    mix.failures.append(("settle", exc))

    settler = threading.Thread(target=settle_meanwhile)
    settler.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    stop.set()
    settler.join(timeout=60)
    assert not any(w.is_alive() for w in [*workers, settler]), "a worker is stuck (deadlock?)"
    settle_all(uow_factory, policies)  # what graded last, settled by the job's next pass

    assert mix.failures == []
    assert sum(mix.done.values()) - mix.done["expired"] >= threads * per_thread * 0.9
    # Every kind of change really happened, so the counts below prove something.
    for op in ("authorize", "refused", "receive", "grade", "grade refused", "cancel", "ship"):
        assert mix.done[op] > 0, f"no successful {op} in {dict(mix.done)}"

    assert verify_ledger(uow_factory) == []
    with uow_factory() as uow:
        c = uow.connection
        statuses = Counter(dict(c.execute(
            select(exchanges.c.status, func.count()).group_by(exchanges.c.status)).all()))
        # A cancelled return's reservation (it had a location) was released, then closed.
        cancelled_reserved = c.execute(select(func.count()).select_from(exchanges).where(
            exchanges.c.status == "cancelled", exchanges.c.location_id.is_not(None))).scalar()
        # No balance went below zero at any point: every movement records the figures after it.
        negative = c.execute(select(func.count()).select_from(ledger_movements).join(
            locations, locations.c.id == ledger_movements.c.location_id).where(
            ~locations.c.allow_negative,
            (ledger_movements.c.on_hand_after < 0) | (ledger_movements.c.reserved_after < 0)
            | (ledger_movements.c.on_hand_after < ledger_movements.c.reserved_after))).scalar()
        short = c.execute(select(func.count()).select_from(stock_balances).where(
            (stock_balances.c.on_hand < 0) | (stock_balances.c.reserved < 0)
            | (stock_balances.c.on_hand < stock_balances.c.reserved))).scalar()
        # No sold line was ever claimed beyond what was sold.
        claimed = (select(return_lines.c.sales_line_id,
                          func.sum(return_lines.c.quantity).label("claimed"))
                   .join(returns, returns.c.id == return_lines.c.return_id)
                   .where(returns.c.status.in_(["authorized", "received"]))
                   .group_by(return_lines.c.sales_line_id).subquery())
        over = c.execute(select(func.count()).select_from(claimed).join(
            sales_lines, sales_lines.c.id == claimed.c.sales_line_id).where(
            claimed.c.claimed > sales_lines.c.quantity)).scalar()
        over_received = c.execute(select(func.count()).select_from(return_lines).where(
            return_lines.c.received_quantity > return_lines.c.quantity)).scalar()
    assert (negative, short, over, over_received) == (0, 0, 0, 0)

    # Exactly one event per change. A release comes from a cancel or from the expiry job, so
    # its count is checked against the exchanges that ended up released; a cancelled return
    # cancels its backorders.
    expected = +mix.expected
    expected["exchange.released"] = statuses["released"] + cancelled_reserved
    expected["exchange.cancelled"] = statuses["cancelled"] - cancelled_reserved
    expected = +expected
    # An expired reservation stays "released" unless its return was cancelled afterwards.
    assert mix.done["expired"] <= statuses["released"] + cancelled_reserved
    assert statuses["shipped"] == mix.done["ship"]
    assert (outbox(uow_factory) - before) == expected
