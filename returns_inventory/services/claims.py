"""Vendor claims: gather units sent back into a claim per supplier, send it, record the credit."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from ..domain.claims import ClaimAction, ClaimStatus, check_credit, next_status
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed, present
from ..domain.grading import GradingPolicy
from ..persistence.uow import UowFactory

CENT = Decimal("0.01")


def _now() -> datetime:
    return datetime.now(UTC)


def gather_claims(uow_factory: UowFactory, grading: GradingPolicy, *, actor: str, today: date,
                  supplier: str | None = None) -> dict:
    """Put every unit sent back to its supplier and not yet claimed into that supplier's
    draft claim (opened if there is none), except units whose claim window ended before
    `today`: the supplier would refuse them, and a claim billing them would be refused whole
    or argued over. Answers the drafts that gained units (`drafts`) and the units left out
    (`window_ended`: unit, supplier, value, the day the window ended)."""
    now = _now()
    with uow_factory() as uow:
        by_supplier: dict[str, list[dict]] = defaultdict(list)
        left_out = []
        for unit in uow.claims.unclaimed_units(supplier):
            ends = grading.claim_window_ends(unit["supplier"], unit["sold_on"])
            if ends is not None and ends < today:
                left_out.append({"unit": unit["unit_code"], "supplier": unit["supplier"],
                                 "value": _money(unit["unit_cost"]),
                                 "window_ends_on": ends.isoformat()})
                continue
            by_supplier[unit["supplier"]].append(unit)
        touched = []
        for name, units in sorted(by_supplier.items()):
            draft = uow.claims.draft_for(name)
            claim_id = draft["id"] if draft else uow.claims.create(supplier=name, actor=actor,
                                                                  now=now)
            uow.claims.add_units(claim_id, [
                {"unit_id": u["unit_id"], "value": Decimal(u["unit_cost"]).quantize(CENT),
                 "sold_on": u["sold_on"],
                 "window_ends_on": grading.claim_window_ends(name, u["sold_on"])}
                for u in units
            ], now=now)
            touched.append(claim_id)
        claims = [_summary(present(uow.claims.get(claim_id), "the claim")) for claim_id in touched]
        uow.commit()
    return {"drafts": claims, "window_ended": left_out}


def send_claim(uow_factory: UowFactory, *, claim_id: int, actor: str, today: date) -> dict:
    """The claim goes to the supplier; the ERP hears `claim.sent` with its units and value."""
    with uow_factory() as uow:
        claim = _locked(uow, claim_id)
        status = next_status(ClaimStatus(claim["status"]), ClaimAction.SEND, claim_id)
        now = _now()
        uow.claims.set_status(claim_id, status=status.value, sent_at=now, updated_at=now)
        units = uow.claims.units_of(claim_id)
        uow.events.add("claim.sent", {
            "claim_id": claim_id, "supplier": claim["supplier"],
            "value": _money(claim["value"]), "units": [
                {"unit": u["unit_code"], "sku": u["sku"], "size": u["size"],
                 "value": _money(u["value"]),
                 "window_ends_on": _iso(u["window_ends_on"])} for u in units],
            "outside_window": sum(1 for u in units if _expired(u, today)),
        }, actor=actor)
        answer = _detail(uow, claim_id, today)
        uow.commit()
    return answer


def credit_claim(uow_factory: UowFactory, *, claim_id: int, amount: Decimal, actor: str,
                 today: date, reference: str | None = None) -> dict:
    """The supplier credited the claim (all of it, or less); the ERP hears `claim.credited`."""
    with uow_factory() as uow:
        claim = _locked(uow, claim_id)
        status = next_status(ClaimStatus(claim["status"]), ClaimAction.CREDIT, claim_id)
        amount = check_credit(Decimal(amount), Decimal(claim["value"])).quantize(CENT)
        now = _now()
        uow.claims.set_status(claim_id, status=status.value, credited_value=amount,
                              erp_reference=reference, decided_at=now, decided_by=actor,
                              updated_at=now)
        uow.events.add("claim.credited", {
            "claim_id": claim_id, "supplier": claim["supplier"], "value": _money(claim["value"]),
            "credited": _money(amount), "reference": reference}, actor=actor)
        answer = _detail(uow, claim_id, today)
        uow.commit()
    return answer


def reject_claim(uow_factory: UowFactory, *, claim_id: int, reason: str, actor: str,
                 today: date) -> dict:
    """The supplier refused the claim; its units stay in it, recorded as not recovered."""
    if not reason.strip():
        raise ValidationFailed("a rejection needs a reason",
                               errors=[FieldError("reason", "must not be empty")])
    with uow_factory() as uow:
        claim = _locked(uow, claim_id)
        status = next_status(ClaimStatus(claim["status"]), ClaimAction.REJECT, claim_id)
        now = _now()
        uow.claims.set_status(claim_id, status=status.value, note=reason, decided_at=now,
                              decided_by=actor, updated_at=now)
        uow.events.add("claim.rejected", {
            "claim_id": claim_id, "supplier": claim["supplier"], "value": _money(claim["value"]),
            "reason": reason}, actor=actor)
        answer = _detail(uow, claim_id, today)
        uow.commit()
    return answer


def list_claims(uow_factory: UowFactory, *, status: str | None = None,
                supplier: str | None = None) -> list[dict]:
    with uow_factory() as uow:
        return [_summary(c) for c in uow.claims.find(status=status, supplier=supplier)]


def claim_detail(uow_factory: UowFactory, claim_id: int, today: date) -> dict:
    """One claim with its units, each with its claim window and the days left in it."""
    with uow_factory() as uow:
        if uow.claims.get(claim_id) is None:
            raise NotFound(f"no claim {claim_id}")
        return _detail(uow, claim_id, today)


def expiring_units(uow_factory: UowFactory, grading: GradingPolicy, *, within_days: int,
                   today: date) -> list[dict]:
    """Units not yet sent to their supplier whose claim window ends within `within_days`
    (or has ended: they can no longer be claimed, and someone should know why)."""
    with uow_factory() as uow:
        units = uow.claims.units_not_sent()
    out = []
    for u in units:
        ends = grading.claim_window_ends(u["supplier"], u["sold_on"])
        if ends is None or (ends - today).days > within_days:
            continue
        out.append({"unit": u["unit_code"], "sku": u["sku"], "size": u["size"],
                    "supplier": u["supplier"], "value": _money(u["unit_cost"]),
                    "sold_on": _iso(u["sold_on"]), "window_ends_on": ends.isoformat(),
                    "days_left": (ends - today).days, "claim_id": u["claim_id"]})
    return sorted(out, key=lambda u: (u["days_left"], u["unit"]))


def release_unit(uow, unit_id: int, unit_code: str) -> None:
    """Before a re-grade moves a unit: take it out of a draft claim (its value with it); a
    unit on a claim already sent is with the supplier, and its grade is no longer ours."""
    claim = uow.claims.claim_of_unit(unit_id)
    if claim is None:
        return
    if claim["status"] != ClaimStatus.DRAFT:
        raise Conflict(
            f"unit {unit_code} is on claim {claim['id']} to {claim['supplier']}, which is "
            f"{claim['status']}; it can no longer be re-graded", claim_id=claim["id"],
            claim_status=claim["status"])
    uow.claims.remove_unit(claim["id"], unit_id, Decimal(claim["unit_value"]), now=_now())


def _locked(uow, claim_id: int) -> dict:
    claim = uow.claims.get(claim_id, lock=True)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    return claim


def _detail(uow, claim_id: int, today: date) -> dict:
    out = _summary(uow.claims.get(claim_id))
    out["units_detail"] = [
        {"unit": u["unit_code"], "sku": u["sku"], "size": u["size"], "grade": u["grade"],
         "defects": _defects(u["defects"]), "value": _money(u["value"]),
         "sold_on": _iso(u["sold_on"]), "window_ends_on": _iso(u["window_ends_on"]),
         "days_left": None if u["window_ends_on"] is None else (u["window_ends_on"] - today).days}
        for u in uow.claims.units_of(claim_id)
    ]
    return out


def _summary(c: dict) -> dict:
    return {
        "id": c["id"], "supplier": c["supplier"], "status": c["status"], "units": c["units"],
        "value": _money(c["value"]),
        "credited_value": None if c["credited_value"] is None else _money(c["credited_value"]),
        "erp_reference": c["erp_reference"], "note": c["note"],
        "created_at": c["created_at"], "sent_at": c["sent_at"], "decided_at": c["decided_at"],
    }


def _defects(value) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def _expired(unit: dict, today: date) -> bool:
    return unit["window_ends_on"] is not None and unit["window_ends_on"] < today


def _money(value) -> str:
    return str(Decimal(value or 0).quantize(CENT))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
