"""Receiving a parcel at the dock as it is: counted per line, with extras and strangers in it.

The API refuses more units than a line authorizes (409). A parcel at the dock holds what it
holds, though: the page receives what the return authorizes against it, and every unit
beyond that, or of an item the return does not list, as a blind receipt flagged for review,
all in one transaction. surprises() tells the grader in words before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..domain.errors import FieldError, ValidationFailed
from ..domain.text import check_note
from ..persistence.uow import UowFactory
from .policies import Policies
from .receiving import ReceivedUnit, receive_blind_in, receive_in
from .returns import return_view

MAX_PER_LINE = 1000


@dataclass(frozen=True)
class Stranger:
    """An item in the parcel that the return does not list, as scanned or typed."""

    sku: str
    size: str


def read_counts(lines: list[dict], form: dict[str, str]) -> dict[int, int]:
    """The counted quantity per line from form fields `count-<line_no>`, checked."""
    counts, errors = {}, []
    for line in lines:
        field = f"count-{line['line_no']}"
        text = (form.get(field) or "0").strip()
        if not text.isdigit() or int(text) > MAX_PER_LINE:
            errors.append(FieldError(field, f"a whole number from 0 to {MAX_PER_LINE}"))
            continue
        counts[line["line_no"]] = int(text)
    if errors:
        raise ValidationFailed("a count is not a whole number", errors=errors)
    return counts


def read_strangers(uow_factory: UowFactory, text: str | None) -> list[Stranger]:
    """Items not on the return, one a line: a scanned GTIN, or `SKU SIZE` typed."""
    strangers, errors = [], []
    with uow_factory() as uow:
        for n, entry in enumerate((text or "").splitlines(), start=1):
            entry = entry.strip()
            if not entry:
                continue
            by_gtin = uow.bench.item_by_gtin(entry) if entry.isdigit() else None
            if by_gtin:
                strangers.append(Stranger(by_gtin["sku"], by_gtin["size"]))
                continue
            sku, _, size = entry.rpartition(" ")
            # Typed at the bench, a SKU often arrives in lower case; the item master's codes
            # are kept as the ERP sent them, so the exact spelling is tried first.
            spellings = dict.fromkeys([(sku.strip(), size), (sku.strip().upper(), size.upper())])
            known = next((Stranger(s, z) for s, z in spellings
                          if s and uow.catalogue.item_by_sku_size(s, z) is not None), None)
            if known:
                strangers.append(known)
            else:
                errors.append(FieldError("other_items", f"line {n}: no item “{entry}”"))
    if errors:
        raise ValidationFailed("an item in the parcel is not in the item master", errors=errors)
    return strangers


def surprises(lines: list[dict], counts: dict[int, int], strangers: list[Stranger],
              rma: str) -> list[str]:
    """What differs from the return, in words; receiving handles each as said here."""
    said = []
    for line in lines:
        counted = counts.get(line["line_no"], 0)
        outstanding = line["quantity"] - line["received_quantity"]
        if counted > outstanding:
            said.append(
                f"Line {line['line_no']} ({line['sku']} size {line['size']}): {counted} counted "
                f"but only {outstanding} expected. The {counted - outstanding} extra will be "
                "received as blind receipts flagged for review.")
    for stranger in strangers:
        said.append(f"{stranger.sku} size {stranger.size} is not on {rma}. It will be received "
                    "as a blind receipt flagged for review.")
    return said


def receive_parcel(
    uow_factory: UowFactory, *, rma: str, location: str, counts: dict[int, int],
    strangers: list[Stranger], note: str | None, actor: str, policies: Policies | None = None,
) -> list[ReceivedUnit]:
    """Receive the parcel in one transaction: authorized units against the return, the rest
    blind and flagged for review, each note saying which parcel it came in."""
    check_note(note, "note")
    if not any(counts.values()) and not strangers:
        raise ValidationFailed("nothing was counted in the parcel",
                               errors=[FieldError("count", "count at least one unit")])
    with uow_factory() as uow:
        lines = return_view(uow, rma).lines
        wanted, extras = [], []
        for line in lines:
            counted = counts.get(line["line_no"], 0)
            outstanding = max(0, line["quantity"] - line["received_quantity"])
            if min(counted, outstanding):
                wanted.append({"line_no": line["line_no"], "quantity": min(counted, outstanding)})
            if counted > outstanding:
                extras.append((line["sku"], line["size"], counted - outstanding,
                               f"{counted - outstanding} more than expected on line "
                               f"{line['line_no']} of {rma}"))
        extras += [(s.sku, s.size, 1, f"in the parcel of {rma}, which does not list it")
                   for s in strangers]
        received = receive_in(uow, rma=rma, location=location, lines=wanted, actor=actor,
                              note=note, policies=policies) if wanted else []
        for sku, size, quantity, why in extras:
            received += receive_blind_in(uow, sku=sku, size=size, location=location,
                                         quantity=quantity, actor=actor,
                                         note="; ".join(filter(None, [why, note])))
        uow.commit()
    return received


def as_answer(received: list[ReceivedUnit]) -> dict:
    return {"units": [asdict(u) for u in received]}


def receiving_locations(uow_factory: UowFactory) -> list[str]:
    """Where a parcel may be received, warehouses first."""
    with uow_factory() as uow:
        return uow.bench.receiving_locations()
