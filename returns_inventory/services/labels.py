"""Unit labels as PDF: a Code 128 barcode of the unit id, with SKU, size, RMA and receiving date.

Two layouts: one 100 x 150 mm label a page for a thermal label printer (4 x 6 in), and an A4
sheet of 2 x 7 labels of 99.1 x 38.1 mm (the common L7163 stock) for an office printer.
The barcode is reportlab's Code 128, drawn as vector bars, so it stays sharp on either.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..persistence.uow import UowFactory

LAYOUTS = ("label", "a4")


@dataclass(frozen=True)
class UnitLabel:
    unit_id: str
    sku: str
    size: str
    description: str
    rma: str | None  # None: a blind receipt
    received_on: date


def labels_for_units(uow_factory: UowFactory, unit_ids: list[str], *,
                     timezone: str) -> list[UnitLabel]:
    """The labels of these units, in the order they were received."""
    with uow_factory() as uow:
        rows = uow.bench.labels_of_units(unit_ids)
    if not rows:
        raise NotFound(f"no unit {', '.join(unit_ids)}", errors=[FieldError("unit_id", "unknown")])
    return [_label(r, timezone) for r in rows]


def labels_for_return(uow_factory: UowFactory, rma: str, *, timezone: str) -> list[UnitLabel]:
    """The labels of every unit received against the return."""
    with uow_factory() as uow:
        found = uow.returns.return_by_rma(rma)
        rows = uow.bench.labels_of_return(rma) if found else []
    if found is None:
        raise NotFound(f"no return {rma}", errors=[FieldError("rma", "unknown")])
    if not rows:
        raise NotFound(f"nothing of {rma} has been received yet, so it has no labels")
    return [_label(r, timezone) for r in rows]


def _label(row: dict, timezone: str) -> UnitLabel:
    received: datetime = row["received_at"]
    # The dock's calendar day, not the server's: a parcel received at 00:30 is today's.
    return UnitLabel(row["unit_code"], row["sku"], row["size"], row["description"] or "",
                     row["rma"], received.astimezone(ZoneInfo(timezone)).date())


def render_labels(labels: list[UnitLabel], layout: str = "label") -> bytes:
    """A PDF of the labels: one per 100 x 150 mm page, or 14 to an A4 sheet."""
    if layout not in LAYOUTS:
        raise ValidationFailed(f"layout must be one of {', '.join(LAYOUTS)}",
                               errors=[FieldError("layout", f"one of {', '.join(LAYOUTS)}")])
    out = io.BytesIO()
    if layout == "label":
        canvas = Canvas(out, pagesize=(100 * mm, 150 * mm), pageCompression=1)
        canvas.setTitle("Unit labels")
        for label in labels:
            _thermal(canvas, label)
            canvas.showPage()
    else:
        canvas = Canvas(out, pagesize=A4, pageCompression=1)
        canvas.setTitle("Unit labels")
        _sheets(canvas, labels)
    canvas.save()
    return out.getvalue()


def _thermal(canvas: Canvas, label: UnitLabel) -> None:
    """100 x 150 mm, portrait: the barcode across the top, then big type to read by eye."""
    # 0.375 mm modules are 3 dots of a 203 dpi printer: every bar prints the same width.
    barcode = Code128(label.unit_id, barWidth=0.375 * mm, barHeight=35 * mm, quiet=True)
    left = (100 * mm - barcode.width) / 2
    barcode.drawOn(canvas, left, 105 * mm)
    canvas.setFont("Helvetica-Bold", 26)
    canvas.drawCentredString(50 * mm, 92 * mm, label.unit_id)
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(8 * mm, 74 * mm, label.sku)
    canvas.drawString(8 * mm, 62 * mm, f"Size {label.size}")
    canvas.setFont("Helvetica", 14)
    canvas.drawString(8 * mm, 48 * mm, label.description[:40])
    canvas.drawString(8 * mm, 36 * mm, label.rma or "No RMA: review")
    canvas.drawString(8 * mm, 26 * mm, f"Received {label.received_on.isoformat()}")


SHEET_COLUMNS, SHEET_ROWS = 2, 7
SHEET_LABEL_W, SHEET_LABEL_H = 99.1 * mm, 38.1 * mm
SHEET_LEFT, SHEET_TOP, SHEET_GAP = 4.65 * mm, 15.15 * mm, 2.5 * mm


def _sheets(canvas: Canvas, labels: list[UnitLabel]) -> None:
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    for start in range(0, len(labels), per_sheet):
        for n, label in enumerate(labels[start:start + per_sheet]):
            row, column = divmod(n, SHEET_COLUMNS)
            x = SHEET_LEFT + column * (SHEET_LABEL_W + SHEET_GAP)
            y = A4[1] - SHEET_TOP - (row + 1) * SHEET_LABEL_H
            _sheet_label(canvas, label, x, y)
        canvas.showPage()


def _sheet_label(canvas: Canvas, label: UnitLabel, x: float, y: float) -> None:
    barcode = Code128(label.unit_id, barWidth=0.33 * mm, barHeight=14 * mm, quiet=True)
    barcode.drawOn(canvas, x + 3 * mm, y + 21 * mm)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(x + 5 * mm, y + 15.5 * mm, label.unit_id)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(x + 5 * mm, y + 10 * mm, f"{label.sku} · size {label.size}")
    where = label.rma or "No RMA: review"
    canvas.drawString(x + 5 * mm, y + 5 * mm, f"{where} · received {label.received_on}")
