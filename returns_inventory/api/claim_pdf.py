"""A vendor claim as a PDF for the supplier, drawn by matplotlib (already used for the
planner's charts), so no second document library is needed."""

from __future__ import annotations

import io

ROWS_PER_PAGE = 40
COLUMNS = ("Unit", "SKU", "Size", "Grade", "Defects", "Sold on", "Claim window ends", "Value")


def claim_pdf(claim: dict) -> bytes:
    """Every unit of the claim with its value at cost, the claim's total, on A4 pages."""
    # Imported here: matplotlib takes a moment to load and only this export draws.
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    units = claim["units_detail"]
    pages = [units[i:i + ROWS_PER_PAGE] for i in range(0, len(units), ROWS_PER_PAGE)] or [[]]
    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": f"Vendor claim {claim['id']}",
                                 "CreationDate": None}) as pdf:
        for number, rows in enumerate(pages, start=1):
            figure = Figure(figsize=(8.27, 11.69))  # A4 portrait, inches
            figure.text(0.06, 0.95, f"Vendor claim {claim['id']} — {claim['supplier']}",
                        fontsize=15, weight="bold")
            figure.text(0.06, 0.925, (
                f"{claim['units']} units, value at cost {claim['value']}; status "
                f"{claim['status']}; page {number} of {len(pages)}"), fontsize=10)
            ax = figure.add_axes((0.04, 0.05, 0.92, 0.85))
            ax.axis("off")
            cells = [[u["unit"], u["sku"], u["size"], u["grade"] or "",
                      ", ".join(u["defects"]), u["sold_on"] or "", u["window_ends_on"] or "",
                      u["value"]] for u in rows]
            if cells:
                table = ax.table(cellText=cells, colLabels=COLUMNS, loc="upper center",
                                 cellLoc="left")
                table.auto_set_font_size(False)
                table.set_fontsize(7)
            pdf.savefig(figure)
    return out.getvalue()
