"""What waits for a supervisor: costly write-offs to approve, exchanges to act on."""

from __future__ import annotations

from ..domain.returns import ExchangeStatus
from ..persistence.uow import UowFactory

SHOWN = 200
# Exchanges someone must act on: an expired reservation, a backorder, one to ship.
EXCHANGE_STATES = (ExchangeStatus.RELEASED, ExchangeStatus.BACKORDERED, ExchangeStatus.RESERVED)


def supervisor_work(uow_factory: UowFactory) -> dict:
    """Write-offs waiting for approval with their photos, and open exchanges by state."""
    with uow_factory() as uow:
        write_offs = uow.units.write_offs_by_status("pending_approval", limit=SHOWN, after=None)
        for write_off in write_offs:
            write_off["photos"] = [
                f"/api/v1/units/{write_off['unit_code']}/photos/{p['filename']}"
                for p in uow.units.photos_of(write_off["unit_id"])]
        exchanges = {state: uow.returns.exchanges_by_status(state, limit=SHOWN, after=None)
                     for state in EXCHANGE_STATES}
    return {"write_offs": write_offs, "exchanges": exchanges}
