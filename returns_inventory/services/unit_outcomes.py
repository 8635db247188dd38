"""What grading a unit produced, and the events that announce where it went."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import present
from ..domain.grading import ReturnUnit
from ..persistence.uow import UnitOfWork


@dataclass(frozen=True)
class GradingResult:
    unit_id: str
    grade: str | None
    defects: list[str]
    disposition: str
    rule: str
    status: str
    condition: str | None
    where_to_put: str
    write_off_id: int | None = None
    write_off_value: str | None = None
    awaiting_approval: bool = False
    # What the customer gets for it (services/inspection.py); None for a blind receipt.
    outcome: dict | None = None


def announce_write_off(uow: UnitOfWork, unit, value, write_off_id, actor, where=None) -> None:
    """Tell the ERP a unit left stock as a loss, with its value."""
    uow.events.add(
        "stock.written_off",
        {
            "unit_id": unit.unit_code,
            "write_off_id": write_off_id,
            "value": str(value),
            **(where or where_is(uow, unit)),
        },
        actor=actor,
    )


def where_is(uow: UnitOfWork, unit: ReturnUnit) -> dict:
    """The SKU, size and location code events and answers name the unit by."""
    item = present(uow.catalogue.item(unit.item_id), f"item {unit.item_id}")
    location = present(uow.catalogue.location(unit.location_id),
                       f"location {unit.location_id}")
    return {"sku": item.sku, "size": item.size, "location": location.code}


def grading_result(
    unit, disposition, rule, where, *, write_off_id=None, value=None, awaiting=False
) -> GradingResult:
    return GradingResult(
        unit.unit_code,
        unit.grade.value if unit.grade else None,
        list(unit.defects),
        disposition.value,
        rule,
        unit.status.value,
        unit.condition.value if unit.condition else None,
        where,
        write_off_id,
        str(value) if value is not None else None,
        awaiting,
    )
