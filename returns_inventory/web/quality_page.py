"""Quality for buyers and supplier managers: scorecards, monthly charts, claims and flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import render_template, request
from markupsafe import Markup

from ..domain.access import Role
from ..domain.errors import DomainError
from ..domain.quality import Dimension
from ..extensions import policies, uow_factory
from ..http.auth import requires_role
from ..services.claims import expiring_units, list_claims
from ..services.quality import quality_scorecards
from .forms import whole_number
from .pages import page_blueprint
from .planner_charts import BAD, INK, MUTED, figure_svg

bp = page_blueprint("planner_quality", __name__, url_prefix="/planner/quality")

WINDOWS = {90: "last 90 days", 180: "last 6 months", 365: "last year"}
DEFAULT_WINDOW = 180
BY_WORDS = {Dimension.SUPPLIER: "Supplier", Dimension.FACTORY: "Factory",
            Dimension.STYLE: "Style (SKU)", Dimension.SEASON: "Season",
            Dimension.FABRIC: "Fabric"}
CHARTED = 8  # small multiples beyond this are too small to read; the table has the rest
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class ClaimForm:
    """A claim's form sent back refused: what was typed, and the words beside the field."""

    claim_id: int
    action: str  # "credit" or "reject"
    typed: dict[str, str]
    field: str
    error: str


@bp.get("")
@requires_role(Role.PLANNER)
def quality_page():
    """Quality scorecards by supplier (or factory, style, season, fabric), claims and flags."""
    return render_quality_page()


def render_quality_page(claim_form: ClaimForm | None = None):
    """The page; with `claim_form`, that claim's form comes back as typed, its error beside
    the field at fault (422), so a planner corrects a figure instead of typing it again."""
    refused = []
    days = whole_number(request.args.get("window", str(DEFAULT_WINDOW)))
    if days not in WINDOWS:
        refused.append(f"The window must be {', '.join(str(d) for d in WINDOWS)} days; "
                       f"showing the {WINDOWS[DEFAULT_WINDOW]}.")
        days = DEFAULT_WINDOW
    by = request.args.get("by", Dimension.SUPPLIER.value)
    if by not in {d.value for d in Dimension}:
        refused.append(f"There is no grouping by “{by}”; showing suppliers.")
        by = Dimension.SUPPLIER.value
    category = request.args.get("category", "").strip() or None
    today = policies().returns.today()
    # A bad link still shows the report, with the words saying what was not understood.
    error, status = (" ".join(refused), 422) if refused else (None, 200)
    found = None
    try:
        found = quality_scorecards(uow_factory(), policies().returns, by=by, category=category,
                                   since=today - timedelta(days=days - 1), until=today)
    except DomainError as exc:
        error, status = exc.detail, 422
    open_claims = [c for c in list_claims(uow_factory()) if c["status"] in ("draft", "sent")]
    expiring = expiring_units(uow_factory(), policies().grading, within_days=EXPIRING_DAYS,
                              today=today)
    if claim_form is not None:
        status = 422
    return render_template(
        "planner/quality.html", found=found, error=error, windows=WINDOWS, days=days, by=by,
        claim_form=claim_form,
        by_words=BY_WORDS, category=category or "", open_claims=open_claims,
        expiring=expiring, expiring_days=EXPIRING_DAYS,
        chart=monthly_chart(found["groups"][:CHARTED], BY_WORDS[Dimension(by)])
        if found and found["groups"] else None,
        chart_columns=min(4, len(found["groups"][:CHARTED])) if found else 0,
    ), status


def monthly_chart(groups: list[dict], what: str) -> Markup:
    """One small chart per group: its quality-return rate by month of sale, against the rate
    its categories have without it (dashed)."""
    from matplotlib.figure import Figure

    columns = min(4, len(groups))  # the page caps its width by these (planner.css)
    rows = -(-len(groups) // columns)
    figure = Figure(figsize=(2.6 * columns, 2.1 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, sharey=True)
    for ax, group in zip(axes.flat, groups, strict=False):
        months = [m["month"] for m in group["months"]]
        rates = [100 * m["quality_return_rate"] for m in group["months"]]
        ax.plot(months, rates, color=BAD if group["flagged"] else INK, marker="o",
                markersize=3, linewidth=1.6)
        if group["category_rate"] is not None:
            ax.axhline(100 * group["category_rate"], color=MUTED, linestyle="--", linewidth=1)
        ax.set_title(group["group"] + ("  (flagged)" if group["flagged"] else ""), fontsize=9,
                     color=BAD if group["flagged"] else INK)
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylim(bottom=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#e3e7eb")
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    figure.supylabel("% of units sold back for quality", fontsize=8)
    return figure_svg(figure, f"Quality-return rate by month of sale, per {what.lower()}")
