"""Settling what grading judged: each return line's refund and the customer's answer, for many
returns in one transaction, after the grades' own.

A grade records its unit's outcome marked `settling` and nothing more about money: the
settlement step (the scheduler's `settle-refunds` job, every few seconds) takes the returns
with outcomes still settling, oldest first, locks them, and in a few statements for all of
them issues every refund line whose received units are all judged (`refund.due`), sends the
return's `return.inspected` answer as policy says, and clears the mark. It reads what is
committed under the returns' locks, so a unit judged while it runs is settled by the next pass,
and a line is refunded exactly once whichever pass sees it complete. An override settles its
return at once, in its own transaction, with the same code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..domain.inspection import RefundFigures, RefundTiming
from ..domain.returns import ReturnStatus
from .policies import Policies
from .refunds import due_payload, line_refund, refund_row

SETTLER = "settlement"
# Outcomes one pass takes: a few hundred returns in one transaction, its locks held briefly.
SETTLE_BATCH = 500


@dataclass
class _NewRefund:
    ctx: dict
    figures: RefundFigures
    row: dict
    deductions: list[dict]
    settles: list[int]  # the outcomes it pays


def settle_waiting(
    uow_factory: Callable,
    policies: Policies,
    *,
    batch: int = SETTLE_BATCH,
    today: date | None = None,
) -> int:
    """One pass of the settlement step; how many returns it settled (0: nothing waited)."""
    with uow_factory() as uow:
        waiting = uow.refunds.settling(batch)
        if not waiting:
            return 0
        return_ids = sorted({return_id for _, return_id in waiting})
        settle_returns(
            uow,
            policies,
            return_ids,
            actor=SETTLER,
            today=today,
            clear=[outcome_id for outcome_id, _ in waiting],
        )
        uow.commit()
    return len(return_ids)


def settle_all(uow_factory: Callable, policies: Policies, *, today: date | None = None) -> int:
    """Passes until nothing waits; how many returns were settled. Every pass clears what it
    took, so this ends."""
    settled = 0
    while passed := settle_waiting(uow_factory, policies, today=today):
        settled += passed
    return settled


def settle_returns(
    uow,
    policies: Policies,
    return_ids: list[int],
    *,
    actor: str,
    today: date | None = None,
    revised: bool = False,
    clear: Iterable[int] = (),
) -> None:
    """Lock these returns, refund each line whose received units are all judged, answer the
    customer of each return with outcomes settling, and clear those (and `clear`), in the
    caller's transaction. `revised`: the answer follows an override."""
    policy = policies.inspection
    today = today or policies.returns.today()
    lines = uow.refunds.lines_of_returns(return_ids)  # locks the returns first
    judged = uow.refunds.outcomes_of_returns(return_ids)
    live = uow.refunds.live_refunds_of_returns(return_ids)
    of_line: dict[int, list[dict]] = defaultdict(list)
    of_return: dict[int, list[dict]] = defaultdict(list)
    for outcome in judged:
        of_line[outcome["return_line_id"]].append(outcome)
        of_return[outcome["return_id"]].append(outcome)
    # The return shipping, and the outbound shipping given back, are settled once per return.
    charged: dict[int, bool] = defaultdict(bool)
    given_back: dict[int, bool] = defaultdict(bool)
    for refund in live:
        charged[refund["return_id"]] |= bool(refund["took_return_shipping"])
        given_back[refund["return_id"]] |= refund["shipping_refund"] > 0
    new: list[_NewRefund] = []
    first_line: dict[int, dict] = {}
    for ctx in lines:
        return_id = ctx["return_id"]
        reason = policies.returns.reasons.get(ctx["reason"])
        ctx = {**ctx, "quality": bool(reason and reason.quality)}
        first_line.setdefault(return_id, ctx)
        owed = line_refund(
            policy,
            ctx,
            of_line[ctx["line_id"]],
            charged=charged[return_id],
            given_back=given_back[return_id],
        )
        if owed is None:
            continue
        figures, settles = owed
        row, deductions = refund_row(
            ctx, figures, timing=RefundTiming.ON_INSPECTION, actor=actor, today=today
        )
        new.append(_NewRefund(ctx, figures, row, deductions, settles))
        charged[return_id] |= any(d.code == "return_shipping" for d in figures.deductions)
        given_back[return_id] |= figures.shipping_refund > 0
    refund_ids = uow.refunds.add_refunds([n.row for n in new], [n.deductions for n in new])
    uow.refunds.settle_many(
        [
            (outcome_id, refund_id)
            for n, refund_id in zip(new, refund_ids, strict=True)
            for outcome_id in n.settles
        ]
    )
    owed_now: dict[int, list[dict]] = defaultdict(list)
    for refund in live:
        owed_now[refund["return_id"]].append(refund)
    for n, refund_id in zip(new, refund_ids, strict=True):
        uow.events.add(
            "refund.due", due_payload(refund_id, n.ctx, n.figures, n.row, n.deductions), actor=actor
        )
        owed_now[n.ctx["return_id"]].append(
            {"id": refund_id, "line_ref": n.ctx["line_ref"], **n.row}
        )
    for return_id, ctx in first_line.items():
        _announce(
            uow,
            policies,
            ctx,
            of_return[return_id],
            owed_now[return_id],
            actor=actor,
            revised=revised,
        )
    uow.refunds.mark_settled(sorted({*clear, *(o["id"] for o in judged if o["settling"])}))


def _announce(
    uow,
    policies: Policies,
    ctx: dict,
    judged: list[dict],
    owed: list[dict],
    *,
    actor: str,
    revised: bool,
) -> None:
    """`return.inspected` for the units just settled: one each (per_unit), or once every unit
    of the return has arrived and been judged (per_return), as policy says."""
    policy = policies.inspection
    settling = [o for o in judged if o["settling"]]
    if not settling:
        return  # nothing new judged in this return since it was last answered
    if policy.inspected_event == "per_unit":
        answers = [[o] for o in settling]
    else:
        arrived = ctx["return_status"] == ReturnStatus.RECEIVED
        if not arrived or len(judged) < ctx["return_received"]:
            return
        answers = [judged]
    refunds = [
        {
            "refund_id": r["id"],
            "line_ref": r["line_ref"],
            "total": str(r["total"]),
            "method": r["method"],
            "due_on": r["due_on"].isoformat(),
        }
        for r in owed
    ]
    for units in answers:
        uow.events.add(
            "return.inspected",
            {
                "rma": ctx["rma"],
                "order_ref": ctx["order_ref"],
                "revised": revised,
                "language": policy.language,
                "units": [unit_answer(policy, o, resolution=o["resolution"]) for o in units],
                # What is owed now, shipping and return shipping included (refund.due has each).
                "refunds": refunds,
            },
            actor=actor,
        )


def unit_answer(policy, row: dict, *, resolution: str) -> dict:
    """One unit's outcome with the words the customer is sent."""
    outcome = row["outcome"]
    words = "exchange" if resolution == "exchange" and outcome != "refuse" else outcome
    amount = policy.round(Decimal(row["amount"]))
    listed = ", ".join(f"{d['label']} {d['amount']}" for d in row["deductions"])
    return {
        "unit_id": row["unit_code"],
        "sku": row["sku"],
        "size": row["size"],
        "outcome": outcome,
        "rule": row["rule"],
        "deductions": row["deductions"],
        "amount": str(amount),
        "failed_conditions": list(row["failed"]),
        "message": policy.message(
            words,
            sku=row["sku"],
            size=row["size"],
            amount=str(amount),
            deductions=listed,
            rule=row["rule"],
        ),
    }
