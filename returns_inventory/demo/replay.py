"""Feeding history in the way production data arrives: ERP files through the import service,
customer returns through authorize -> receive -> grade. Used by the demo loaders."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain.returns import ReturnRefused
from ..persistence.uow import UowFactory
from ..services.grading import grade_unit
from ..services.import_formats import file_sha256
from ..services.imports import ImportResult, import_rows
from ..services.receiving import receive_units
from ..services.refunds import list_refunds, mark_paid
from ..services.returns import ReturnLineRequest, authorize_return
from ..services.settlement import settle_all


def import_csv(
    uow_factory: UowFactory,
    kind: str,
    columns: tuple[str, ...],
    rows: Iterable[Iterable],
    *,
    actor: str,
    batch_size: int = 5000,
    policies=None,
) -> ImportResult:
    """Write `rows` to a temporary CSV file and import it like an ERP file (all or nothing)."""
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows(rows)
        text.flush()
        text.detach()
        sha256 = file_sha256(raw)
        return import_rows(
            uow_factory, kind, raw, fmt="csv", sha256=sha256, actor=actor,
            batch_size=batch_size, policies=policies,
        )


@dataclass
class ReturnLine:
    line_ref: str
    quantity: int
    reason: str
    # One (grade, defects) per unit, in arrival order; None leaves the unit awaiting grading.
    grades: list[tuple[str, list[str]] | None] = field(default_factory=list)


@dataclass
class HistoricalReturn:
    order_ref: str
    requested_on: date
    received_at: datetime
    location: str
    lines: list[ReturnLine]


@dataclass
class ReplayCounts:
    authorized: int = 0
    refused: int = 0
    refused_by_rule: dict[str, int] = field(default_factory=dict)
    units_received: int = 0
    units_graded: int = 0

    def refuse(self, rule: str) -> None:
        self.refused += 1
        self.refused_by_rule[rule] = self.refused_by_rule.get(rule, 0) + 1


def replay_returns(
    uow_factory: UowFactory,
    policies,
    returns: Iterable[HistoricalReturn],
    *,
    actor: str,
    on_return: Callable[[], None] | None = None,
    on_day: Callable[[int, int, date], None] | None = None,
) -> ReplayCounts:
    """Put each return through the real services, dated as it happened.

    The policy is checked as on `requested_on` (the return's own date), so a late return is
    refused and recorded as rejected, exactly as at the counter. Units are received at
    `received_at` and graded as of that day (the supplier-claim window is counted from it).
    `on_day(n, days, day)` hears each new day of receipts as it starts (day n of `days`), so
    a replay of minutes can say how far it is.
    """
    counts = ReplayCounts()
    returns = list(returns)
    days = sorted({parcel.received_at.date() for parcel in returns})
    day_no = {day: n for n, day in enumerate(days, start=1)}
    current = None
    for parcel in returns:
        if on_day and parcel.received_at.date() != current:
            current = parcel.received_at.date()
            on_day(day_no[current], len(days), current)
        if on_return:
            on_return()
        try:
            view = authorize_return(
                uow_factory, policies, order_ref=parcel.order_ref, actor=actor,
                requested_on=parcel.requested_on, today=parcel.requested_on,
                lines=[ReturnLineRequest(ln.line_ref, ln.quantity, ln.reason)
                       for ln in parcel.lines],
            )
        except ReturnRefused as refusal:
            counts.refuse(refusal.rule)
            continue
        counts.authorized += 1
        units = receive_units(
            uow_factory, rma=view.rma, location=parcel.location, actor=actor,
            received_at=parcel.received_at,
            lines=[{"line_no": no, "quantity": ln.quantity}
                   for no, ln in enumerate(parcel.lines, start=1)],
        )
        counts.units_received += len(units)
        pending = {no: list(ln.grades) for no, ln in enumerate(parcel.lines, start=1)}
        for unit in units:
            graded = pending[unit.line_no].pop(0) if pending[unit.line_no] else None
            if graded is None:
                continue
            grade, defects = graded
            grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade=grade,
                       defects=defects, actor=actor, today=parcel.received_at.date())
            counts.units_graded += 1
        # As the settle-refunds job would have, seconds later: refunds fall due from that day.
        settle_all(uow_factory, policies, today=parcel.received_at.date())
    return counts


def pay_refunds_as_the_erp_did(uow_factory: UowFactory, *, today: date, actor: str,
                               unpaid_every: int = 40) -> int:
    """Mark paid, as the ERP would have, the history's refunds that fell due before `today`,
    leaving one in `unpaid_every` overdue so the demo shows what an overdue refund looks like.
    Without this every refund in two years of history is overdue and the flag means nothing."""
    paid = 0
    after = None
    while page := list_refunds(uow_factory, status="overdue", today=today, limit=500,
                               after=after):
        for refund in page:
            if refund["id"] % unpaid_every:
                mark_paid(uow_factory, refund_id=refund["id"], actor=actor,
                          payment_ref=f"DEMO-{refund['id']}")
                paid += 1
        after = page[-1]["id"]
    return paid
