"""Return authorization: the policy that decides whether a sold line may come back."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import FieldError, Refused, ValidationFailed, line_field
from .lifecycles import Lifecycle, table


class Resolution(enum.StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class ReturnStatus(enum.StrEnum):
    AUTHORIZED = "authorized"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    RECEIVED = "received"  # every authorized unit has arrived


class ExchangeStatus(enum.StrEnum):
    RESERVED = "reserved"  # the replacement is held at a location until expires_at
    BACKORDERED = "backordered"  # owed, nothing held: no location had it
    RELEASED = "released"  # the hold expired: someone should reserve it again or refund
    SHIPPED = "shipped"
    CANCELLED = "cancelled"  # closed with its return
    REFUNDED = "refunded"  # the customer took a refund instead


_X = ExchangeStatus
EXCHANGES = Lifecycle("exchange", ExchangeStatus, frozenset({_X.RESERVED, _X.BACKORDERED}), table({
    _X.RESERVED: {_X.RELEASED, _X.SHIPPED},
    _X.BACKORDERED: {_X.RESERVED, _X.CANCELLED, _X.REFUNDED},
    # A released hold gives the stock back first: cancelling or refunding moves nothing more.
    _X.RELEASED: {_X.RESERVED, _X.CANCELLED, _X.REFUNDED},
    _X.SHIPPED: set(),
    _X.CANCELLED: set(),
    _X.REFUNDED: set(),
}))


class ShippingPayer(enum.StrEnum):
    MERCHANT = "merchant"
    CUSTOMER = "customer"


class ReturnRefused(Refused):
    """The policy says no; `rule` names which part of it."""

    title = "Return refused by policy"

    def __init__(self, rule: str, detail: str, *, field: str = "lines", row: int | None = None):
        where = f"lines.{row}" if field == "lines" and row is not None else line_field(row, field)
        super().__init__(detail, errors=[FieldError(where, detail)], rule=rule)
        self.rule = rule


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    quality: bool = False
    fit: str | None = None  # "small" / "large": feeds the fit signal


@dataclass(frozen=True)
class ExtendedWindow:
    name: str
    sold_from: date
    sold_until: date
    return_by: date


@dataclass(frozen=True)
class SoldLine:
    """A line of an imported sale, as the policy needs to see it."""

    sales_line_id: int
    order_ref: str
    line_ref: str
    item_id: int
    sku: str
    size: str
    category: str
    channel: str
    sold_on: date
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ReturnsPolicy:
    windows: dict[str, int]
    category_windows: dict[str, int] = field(default_factory=dict)
    gift_extra_days: int = 0
    extended_windows: tuple[ExtendedWindow, ...] = ()
    excluded_categories: frozenset[str] = frozenset()
    presale_release: dict[str, date] = field(default_factory=dict)
    condition_required: tuple[str, ...] = ()
    condition_description: str = "does not affect resale"
    quality_payer: ShippingPayer = ShippingPayer.MERCHANT
    other_payer: ShippingPayer = ShippingPayer.CUSTOMER
    reasons: dict[str, Reason] = field(default_factory=dict)
    # The ERP's own return reason codes -> ours, for imported return history.
    erp_reasons: dict[str, str] = field(default_factory=dict)
    reservation_days: int = 14
    size_order: tuple[str, ...] = ()
    write_off_approval_threshold: Decimal = Decimal("100")
    timezone: str = "UTC"
    backdate_days: int = 14
    # The heat map colours a cell only from this many units sold: below it a rate is noise.
    heat_min_units: int = 20
    # A stored returns report whose data changed since is served, saying so, until it is this
    # old; the next read computes it again (the scheduler refreshes it every few minutes).
    report_max_age_minutes: float = 15
    # A report expected to take at least this long to compute (as the longest report of every
    # category took here) is not waited for: the read answers "computing" (202) and it is
    # computed in the background; one stored but out of date is served as it is.
    report_wait_ms: int = 300
    # Besides the default windows, the job keeps at most this many other recent windows up to
    # date (those computed last); the rest are dropped when their data changes and computed
    # again by their next read. An API client asking for many windows cannot make every pass
    # of the job recompute them all.
    report_windows_kept: int = 20

    def today(self, now: datetime | None = None) -> date:
        """Today on the business's calendar ([calendar] timezone), not the server's: windows
        are counted in the days customers and staff live by."""
        return (now or datetime.now(UTC)).astimezone(ZoneInfo(self.timezone)).date()

    def write_off_awaits_approval(self, value: Decimal, *, is_admin: bool) -> bool:
        """Above the threshold a write-off waits in quarantine for an admin's approval; an
        admin's own grade posts at once."""
        return Decimal(value) > self.write_off_approval_threshold and not is_admin

    def check_requested_on(self, requested_on: date, *, today: date) -> None:
        """A request made elsewhere (a store, a call) may reach us a few days late and keep its
        date; any earlier date would reopen a window that has closed, and a later one has not
        happened yet."""
        earliest = today - timedelta(days=self.backdate_days)
        if not earliest <= requested_on <= today:
            raise ValidationFailed(
                f"requested_on must be between {earliest.isoformat()} and {today.isoformat()}",
                errors=[FieldError("requested_on", f"at most {self.backdate_days} days ago, "
                                   "not in the future")],
            )

    @classmethod
    def from_config(cls, doc: dict[str, Any]) -> ReturnsPolicy:
        policy = cls._read(doc)
        # A mapping to a code we do not have would fail every import of it: fail at start-up.
        if wrong := sorted(v for v in policy.erp_reasons.values() if v not in policy.reasons):
            raise ValueError(f"[erp_reasons] maps to unknown reason codes: {', '.join(wrong)}")
        return policy

    @classmethod
    def _read(cls, doc: dict[str, Any]) -> ReturnsPolicy:
        windows = doc.get("windows", {})
        return cls(
            windows={k: int(v) for k, v in windows.items() if k != "category"},
            category_windows={k: int(v) for k, v in windows.get("category", {}).items()},
            gift_extra_days=int(doc.get("gift", {}).get("extra_days", 0)),
            extended_windows=tuple(
                ExtendedWindow(
                    w["name"],
                    _date(w["sold_from"]),
                    _date(w["sold_until"]),
                    _date(w["return_by"]),
                )
                for w in doc.get("extended_windows", [])
            ),
            excluded_categories=frozenset(doc.get("excluded", {}).get("categories", [])),
            presale_release={
                sku: _date(d) for sku, d in doc.get("presale", {}).get("release_dates", {}).items()
            },
            condition_required=tuple(doc.get("condition", {}).get("required", [])),
            condition_description=doc.get("condition", {}).get(
                "description", "does not affect resale"
            ),
            quality_payer=ShippingPayer(doc.get("shipping", {}).get("quality_reason", "merchant")),
            other_payer=ShippingPayer(doc.get("shipping", {}).get("other_reason", "customer")),
            reasons={
                code: Reason(code, r.get("label", code), bool(r.get("quality")), r.get("fit"))
                for code, r in doc.get("reasons", {}).items()
            },
            erp_reasons={str(k): str(v) for k, v in doc.get("erp_reasons", {}).items()},
            reservation_days=int(doc.get("exchanges", {}).get("reservation_days", 14)),
            size_order=tuple(doc.get("exchanges", {}).get("size_order", [])),
            timezone=doc.get("calendar", {}).get("timezone", "UTC"),
            backdate_days=int(doc.get("calendar", {}).get("backdate_days", 14)),
            heat_min_units=int(doc.get("analytics", {}).get("heat_min_units", 20)),
            report_max_age_minutes=float(
                doc.get("analytics", {}).get("report_max_age_minutes", 15)),
            report_wait_ms=int(doc.get("analytics", {}).get("report_wait_ms", 300)),
            report_windows_kept=int(doc.get("analytics", {}).get("report_windows_kept", 20)),
            write_off_approval_threshold=Decimal(
                str(doc.get("write_off", {}).get("approval_threshold", "100"))
            ),
        )

    def reason(self, code: str) -> Reason:
        if code not in self.reasons:
            raise ValidationFailed(
                f"unknown reason {code!r}",
                errors=[FieldError("reason", f"one of {', '.join(self.reasons)}")],
            )
        return self.reasons[code]

    def return_deadline(self, sold: SoldLine, *, gift: bool = False) -> tuple[date, str]:
        """The last day the line may be returned, and the rule that set it."""
        start = max(sold.sold_on, self.presale_release.get(sold.sku, sold.sold_on))
        days = self.category_windows.get(sold.category, self.windows.get(sold.channel, 30))
        rule = f"{sold.category} window" if sold.category in self.category_windows else (
            f"{sold.channel} window")
        if start != sold.sold_on:
            rule = f"presale {rule} from the release date"
        if gift:
            days += self.gift_extra_days
            rule += " + gift extension"
        deadline = start + timedelta(days=days)
        for window in self.extended_windows:
            if (
                window.sold_from <= sold.sold_on <= window.sold_until
                and window.return_by > deadline
            ):
                deadline, rule = window.return_by, window.name
        return deadline, rule

    def check_line(
        self,
        sold: SoldLine,
        *,
        quantity: int,
        reason: Reason,
        already_claimed: int,
        requested_on: date,
        gift: bool = False,
        condition_met: bool = True,
        row: int | None = None,
    ) -> None:
        """Refuse the line, naming the rule, when the policy does not allow it."""
        if quantity < 1:
            raise ValidationFailed(
                "quantity must be at least 1",
                errors=[FieldError(line_field(row, "quantity"), "at least 1")],
            )
        if sold.category in self.excluded_categories:
            raise ReturnRefused(
                "excluded_category", f"{sold.category} items cannot be returned", row=row
            )
        deadline, window_rule = self.return_deadline(sold, gift=gift)
        if requested_on > deadline:
            raise ReturnRefused(
                "return_window",
                f"the return window ({window_rule}) closed on {deadline.isoformat()}",
                row=row,
            )
        if not reason.quality and not condition_met:
            raise ReturnRefused(
                "condition",
                f"a {reason.code} return must be {self.condition_description} "
                f"({', '.join(self.condition_required)})",
                field="condition_met",
                row=row,
            )
        returnable = sold.quantity - already_claimed
        if quantity > returnable:
            raise ReturnRefused(
                "quantity",
                f"{quantity} requested but only {max(returnable, 0)} of {sold.quantity} sold "
                f"remain returnable on {sold.order_ref}/{sold.line_ref}",
                field="quantity",
                row=row,
            )

    def shipping_payer(self, reasons: list[Reason]) -> ShippingPayer:
        return self.quality_payer if any(r.quality for r in reasons) else self.other_payer

    def nearest_sizes(self, wanted: str, candidates: list[str]) -> list[str]:
        """Candidates ordered by distance from the wanted size (numeric sizes by value)."""

        def position(size: str) -> float | None:
            if size in self.size_order:
                return float(self.size_order.index(size))
            try:
                return float(size)
            except ValueError:
                return None

        target = position(wanted)
        if target is None:
            return sorted(candidates)

        def distance(size: str) -> tuple[float, str]:
            at = position(size)
            return (1e9 if at is None else abs(at - target), size)

        return sorted(candidates, key=distance)


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
