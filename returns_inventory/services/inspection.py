"""What inspection decides for the customer, recorded per unit as it is graded.

Grading calls `judge` before it moves the unit (a refused unit's disposition becomes
return_to_customer) and `record` after, in the same transaction: the outcome row, the unit sent
back, the exchange that is no longer owed. The line's refund once its last unit is judged, and
the `return.inspected` answer the ERP/CRM passes on to the customer, follow from the settlement
step (services/settlement.py), a few seconds later; an override settles them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.grading import Disposition, Grade, GradingDecision, ReturnUnit, UnitStatus
from ..domain.inspection import InspectionDecision, Outcome, RefundTiming
from ..domain.returns import ExchangeStatus
from ..domain.stock import MovementType
from .exchanges import cancel_backorder, release_reservation
from .placement import move_unit
from .policies import Policies
from .refunds import cancel_refund
from .settlement import settle_returns, unit_answer


@dataclass(frozen=True)
class Judgement:
    decision: InspectionDecision
    ctx: dict


def line_context(uow, policies: Policies, line_id: int, *, lock: bool = False,
                 read: dict | None = None) -> dict:
    """What judging a unit of the line needs; `read`: already read (with the unit's lock)."""
    ctx = read if read is not None else uow.refunds.line_context(line_id, lock=lock)
    reason = policies.returns.reasons.get(ctx["reason"])
    return {**ctx, "quality": bool(reason and reason.quality)}


def judge(uow, policies: Policies, unit: ReturnUnit, grade: Grade, defects: list[str],
          line: dict | None = None) -> Judgement | None:
    """The outcome for a unit of a return line; None for a blind receipt (nobody to answer).
    `line`: the line's context as read with the unit (UnitRepository.unit_to_grade)."""
    if unit.return_line_id is None:
        return None
    # Not locked: the settlement step counts a return's judged units under its lock, so two
    # benches grading the last units of one return need not wait for each other.
    ctx = line_context(uow, policies, unit.return_line_id, read=line)
    if ctx["refund_timing"] == RefundTiming.ON_RECEIPT:
        # Refunded in full when it arrived: inspection can no longer change what is owed.
        return Judgement(InspectionDecision(Outcome.ACCEPT, "refunded on receipt"), ctx)
    decision = policies.inspection.decide(quality=ctx["quality"], grade=grade, defects=defects,
                                          declared=ctx["declared_condition"])
    if decision.outcome is Outcome.REFUSE and ctx["resolution"] == "exchange":
        # The exchange it no longer earns changes with its return locked (as refund_instead
        # does), before the unit's stock moves: return before balances, as receiving.
        ctx = line_context(uow, policies, unit.return_line_id, lock=True)
    return Judgement(decision, ctx)


def refused_disposition(policies: Policies, rule: str) -> GradingDecision:
    """Where a refused unit goes, decided by the outcome rule that refused it."""
    disposition = Disposition.RETURN_TO_CUSTOMER
    return GradingDecision(disposition, rule[:64],
                           policies.grading.where_to_put_after(disposition))


def record(uow, policies: Policies, unit: ReturnUnit, judgement: Judgement, *, actor: str,
           where: dict, kind: str = "inspection", reason: str | None = None) -> dict:
    """Keep the unit's outcome, settling, and act on it; answers what the customer gets for
    the unit."""
    policy, ctx, decision = policies.inspection, judgement.ctx, judgement.decision
    row = _priced(policy, ctx, decision, unit_code=unit.unit_code)
    uow.refunds.add_outcome(
        unit_id=unit.id, return_id=ctx["return_id"], return_line_id=ctx["line_id"], kind=kind,
        outcome=decision.outcome.value, rule=decision.rule[:64], deductions=row["deductions"],
        failed=row["failed"], unit_price=Decimal(ctx["unit_price"]), amount=row["amount"],
        reason=reason, actor=actor, settling=True, batch=uow.batch,
    )
    if decision.outcome is Outcome.REFUSE:
        uow.events.add("unit.returned_to_customer", {
            "unit_id": unit.unit_code, "rma": ctx["rma"], "order_ref": ctx["order_ref"],
            "address_ref": ctx["address_ref"], "rule": decision.rule, **where}, actor=actor)
        if ctx["resolution"] == "exchange":
            _exchange_not_owed(uow, ctx, actor=actor)
    return unit_answer(policy, row, resolution=ctx["resolution"])


def override_outcome(uow_factory: Callable, policies: Policies, *, unit_id: str, outcome: str,
                     reason: str, actor: str, deductions: list[str] | None = None,
                     today: date | None = None) -> dict:
    """An admin changes what the customer gets for a unit: a new outcome row, the line's due
    refund cancelled and issued again, never an edit; a paid refund cannot change here."""
    if not reason or not reason.strip():
        raise ValidationFailed("an override needs a reason",
                               errors=[FieldError("reason", "required")])
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id, lock=True)
        if unit is None:
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        [current] = uow.refunds.outcomes_in_force(unit_id=unit.id) or [None]
        if current is None:
            raise Conflict(f"unit {unit_id} has no inspection outcome to override; grade it "
                           "first", unit_status=unit.status.value)
        ctx = line_context(uow, policies, unit.return_line_id, lock=True)
        if ctx["refund_timing"] == RefundTiming.ON_RECEIPT:
            raise Conflict(f"{ctx['rma']} was refunded on receipt; inspection cannot change "
                           "what it is owed")
        chosen, codes = policies.inspection.check_override(
            outcome, deductions or [], quality=ctx["quality"])
        if current["refund_id"] is not None and current["refund_status"] != "cancelled":
            refund = uow.refunds.refund(current["refund_id"], lock=True)
            cancel_refund(uow, refund, reason=f"override of {unit_id}: {reason.strip()}",
                          actor=actor)
        where = {"sku": current["sku"], "size": current["size"],
                 "location": uow.catalogue.location(unit.location_id).code}
        if chosen is Outcome.REFUSE and unit.status is not UnitStatus.RETURNED_TO_CUSTOMER:
            _send_back(uow, unit, actor=actor, reason=reason.strip())
        decision = InspectionDecision(chosen, f"override: {reason.strip()}"[:64], codes,
                                      tuple(current["failed"]))
        uow.events.add("inspection.overridden", {
            "unit_id": unit_id, "rma": ctx["rma"], "from": current["outcome"],
            "to": chosen.value, "deductions": list(codes), "reason": reason.strip()},
            actor=actor)
        answer = record(uow, policies, unit, Judgement(decision, ctx), actor=actor,
                        where=where, kind="override", reason=reason.strip()[:255])
        # Settled at once, as the admin expects to see it; the outcome it replaces is cleared
        # with it if the settlement step had not reached it yet.
        settle_returns(uow, policies, [ctx["return_id"]], actor=actor, today=today,
                       revised=True, clear=[current["id"]] if current["settling"] else [])
        uow.commit()
    return answer


def send_back_label(uow_factory: Callable, unit_id: str) -> dict:
    """Who a refused unit goes back to: the return and the ERP's address reference."""
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
        found = uow.returns.return_by_id(unit.return_id)
    return {"rma": found["rma"], "order_ref": found["order_ref"],
            "address_ref": found["address_ref"]}


def preview(policies: Policies, ctx: dict, grade: Grade, defects: list[str]) -> dict:
    """What the customer would get for a unit graded so (the bench shows it before confirming)."""
    if ctx["refund_timing"] == RefundTiming.ON_RECEIPT:
        decision = InspectionDecision(Outcome.ACCEPT, "refunded on receipt")
    else:
        decision = policies.inspection.decide(quality=ctx["quality"], grade=grade,
                                              defects=defects,
                                              declared=ctx["declared_condition"])
    return unit_answer(policies.inspection, _priced(policies.inspection, ctx, decision),
                       resolution=ctx["resolution"])


def _priced(policy, ctx: dict, decision: InspectionDecision, *, unit_code: str | None = None
            ) -> dict:
    """The unit's outcome with its money: each deduction and what is left (0 when refused)."""
    price = Decimal(ctx["unit_price"])
    refunded = decision.outcome is not Outcome.REFUSE
    deductions = policy.unit_deductions(price, decision.deductions) if refunded else []
    left = policy.round(price) - sum((d.amount for d in deductions), Decimal(0))
    return {
        "unit_code": unit_code, "sku": ctx["sku"], "size": ctx["size"],
        "outcome": decision.outcome.value, "rule": decision.rule,
        "deductions": [{"code": d.code, "label": d.label, "amount": str(d.amount)}
                       for d in deductions],
        "amount": left if refunded else Decimal(0), "failed": list(decision.failed),
    }


def _exchange_not_owed(uow, ctx: dict, *, actor: str) -> None:
    """A refused unit earns no replacement: its reservation goes back, a backorder ends."""
    why = "returned unit refused at inspection"
    for exchange in uow.returns.exchanges_of(ctx["return_id"]):
        if exchange["return_line_id"] != ctx["line_id"]:
            continue
        if exchange["status"] == ExchangeStatus.BACKORDERED:
            cancel_backorder(uow, exchange["id"], actor=actor, why=why)
        elif exchange["status"] in {ExchangeStatus.RESERVED, ExchangeStatus.RELEASED}:
            # Released first (a reserved hold goes back to stock), then closed: nobody may
            # reserve it again or ship it. The status above was read without the exchange's
            # lock: one that shipped meanwhile has left, and stays shipped.
            if not release_reservation(uow, exchange["id"], actor=actor, why=why) and (
                    uow.returns.exchange(exchange["id"], lock=True) or {}
            ).get("status") != ExchangeStatus.RELEASED:
                continue
            uow.returns.set_exchange_status(exchange["id"], ExchangeStatus.CANCELLED,
                                            was=ExchangeStatus.RELEASED)
            uow.events.add("exchange.cancelled", {"exchange_id": exchange["id"], "reason": why,
                                                  "quantity": exchange["quantity"]},
                           actor=actor)


def _send_back(uow, unit: ReturnUnit, *, actor: str, reason: str) -> None:
    """An override refuses a unit still in our stock: it leaves for the customer."""
    if unit.condition is None:
        raise Conflict(f"unit {unit.unit_code} has already left our stock "
                       f"({unit.status.value}); it cannot be sent back",
                       unit_status=unit.status.value)
    move_unit(uow, unit, None, actor=actor, reason=f"override: {reason}"[:255],
              leaving_as=MovementType.RETURN_TO_CUSTOMER)
    unit.status, unit.disposition = UnitStatus.RETURNED_TO_CUSTOMER, Disposition.RETURN_TO_CUSTOMER
    uow.units.save_unit(unit, actor=actor)
