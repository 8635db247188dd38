"""Every rule of the return authorization policy, on small hand-built policies.

The numbers here are the tests' own, so editing config/returns_policy.toml cannot silently
change what a test means; the last tests check that the real file parses into these rules.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.domain.returns import (
    ExtendedWindow,
    Reason,
    ReturnRefused,
    ReturnsPolicy,
    ShippingPayer,
    SoldLine,
)

CONFIG = Path(__file__).resolve().parents[2] / "config" / "returns_policy.toml"
SOLD_ON = date(2026, 3, 2)

TOO_SMALL = Reason("too_small", "Too small", quality=False, fit="small")
DEFECT = Reason("quality_defect", "Quality defect", quality=True)
CHANGED_MIND = Reason("changed_mind", "Changed mind")


def policy(**overrides) -> ReturnsPolicy:
    values = dict(
        windows={"online": 30, "store": 14},
        category_windows={"footwear": 60},
        gift_extra_days=20,
        extended_windows=(
            ExtendedWindow("holiday", date(2026, 11, 15), date(2026, 12, 31), date(2027, 1, 31)),
        ),
        excluded_categories=frozenset({"underwear", "final_sale"}),
        presale_release={"PUFFER": date(2026, 4, 1)},
        condition_required=("tags_on", "unworn"),
        reasons={r.code: r for r in (TOO_SMALL, DEFECT, CHANGED_MIND)},
        size_order=("XS", "S", "M", "L", "XL"),
    )
    values.update(overrides)
    return ReturnsPolicy(**values)


def sold(*, channel="online", category="tops", sku="TEE", sold_on=SOLD_ON, quantity=2):
    return SoldLine(
        1, "SO-1", "1", 10, sku, "M", category, channel, sold_on, quantity, Decimal("25.00")
    )


def check(p: ReturnsPolicy, line: SoldLine, requested_on: date, **options) -> None:
    options.setdefault("quantity", 1)
    options.setdefault("reason", CHANGED_MIND)
    options.setdefault("already_claimed", 0)
    p.check_line(line, requested_on=requested_on, **options)


def refusal(p, line, requested_on, **options) -> ReturnRefused:
    with pytest.raises(ReturnRefused) as refused:
        check(p, line, requested_on, **options)
    return refused.value


# --- return windows -------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "days"), [("online", 30), ("store", 14)])
def test_the_window_of_the_sales_channel_ends_on_its_last_day(channel, days):
    line = sold(channel=channel)
    assert policy().return_deadline(line) == (SOLD_ON + timedelta(days), f"{channel} window")
    check(policy(), line, SOLD_ON + timedelta(days))
    refused = refusal(policy(), line, SOLD_ON + timedelta(days + 1))
    assert refused.rule == "return_window"
    assert refused.extra["rule"] == "return_window"
    assert "online window" in refused.detail or "store window" in refused.detail


def test_a_channel_without_its_own_window_gets_thirty_days():
    assert policy().return_deadline(sold(channel="marketplace"))[0] == SOLD_ON + timedelta(30)


def test_a_category_window_overrides_the_channel_window_on_every_channel():
    for channel in ("online", "store"):
        deadline, rule = policy().return_deadline(sold(channel=channel, category="footwear"))
        assert (deadline, rule) == (SOLD_ON + timedelta(60), "footwear window")


def test_a_gift_receipt_extends_the_window_by_the_gift_days():
    deadline, rule = policy().return_deadline(sold(), gift=True)
    assert (deadline, rule) == (SOLD_ON + timedelta(50), "online window + gift extension")
    check(policy(), sold(), SOLD_ON + timedelta(50), gift=True)
    assert refusal(policy(), sold(), SOLD_ON + timedelta(31)).rule == "return_window"


def test_a_sale_in_the_holiday_season_may_come_back_until_the_extended_date():
    line = sold(sold_on=date(2026, 11, 20))
    assert policy().return_deadline(line) == (date(2027, 1, 31), "holiday")
    check(policy(), line, date(2027, 1, 31))
    assert refusal(policy(), line, date(2027, 2, 1)).rule == "return_window"


@pytest.mark.parametrize("sold_on", [date(2026, 11, 14), date(2027, 1, 1)])
def test_a_sale_outside_the_holiday_season_keeps_its_normal_window(sold_on):
    assert policy().return_deadline(sold(sold_on=sold_on)) == (
        sold_on + timedelta(30),
        "online window",
    )


def test_a_presale_item_in_a_category_with_its_own_window_names_both_rules():
    line = sold(sku="PUFFER", category="footwear", sold_on=date(2026, 2, 1))
    deadline, rule = policy().return_deadline(line)
    assert (deadline, rule) == (
        date(2026, 5, 31), "presale footwear window from the release date")


def test_an_extended_window_never_shortens_a_longer_normal_window():
    line = sold(category="footwear", sold_on=date(2026, 12, 31))
    assert policy().return_deadline(line) == (date(2027, 3, 1), "footwear window")


def test_a_presale_window_starts_at_the_release_date_not_the_order_date():
    line = sold(sku="PUFFER", sold_on=date(2026, 2, 1))
    assert policy().return_deadline(line) == (
        date(2026, 5, 1), "presale online window from the release date")
    check(policy(), line, date(2026, 5, 1))
    assert refusal(policy(), line, date(2026, 5, 2)).rule == "return_window"


def test_a_presale_item_bought_after_its_release_counts_from_the_sale():
    line = sold(sku="PUFFER", sold_on=date(2026, 4, 10))
    assert policy().return_deadline(line) == (date(2026, 5, 10), "online window")


# --- what may come back at all --------------------------------------------------------


@pytest.mark.parametrize("reason", [CHANGED_MIND, DEFECT])
def test_an_excluded_category_is_refused_whatever_the_reason(reason):
    refused = refusal(policy(), sold(category="underwear"), SOLD_ON, reason=reason)
    assert refused.rule == "excluded_category"
    assert refused.errors[0].field == "lines"


def test_the_excluded_category_is_named_before_a_closed_window():
    late = SOLD_ON + timedelta(days=400)
    assert refusal(policy(), sold(category="final_sale"), late).rule == "excluded_category"


def test_a_non_quality_return_must_meet_the_condition():
    refused = refusal(policy(), sold(), SOLD_ON, reason=TOO_SMALL, condition_met=False, row=3)
    assert refused.rule == "condition"
    # Named as schema errors name a line's field: the request's 0-based array index.
    assert refused.errors[0].to_dict() == {
        "field": "lines.3.condition_met",
        "reason": refused.detail,
    }
    assert "does not affect resale (tags_on, unworn)" in refused.detail


def test_a_quality_return_need_not_meet_the_condition():
    check(policy(), sold(), SOLD_ON, reason=DEFECT, condition_met=False)


# --- quantity -------------------------------------------------------------------------


def test_the_quantity_may_not_exceed_what_was_sold_minus_what_is_already_claimed():
    check(policy(), sold(quantity=2), SOLD_ON, quantity=1, already_claimed=1)
    refused = refusal(policy(), sold(quantity=2), SOLD_ON, quantity=2, already_claimed=1)
    assert refused.rule == "quantity" and refused.errors[0].field == "quantity"
    assert "only 1 of 2 sold remain returnable on SO-1/1" in refused.detail


def test_a_fully_claimed_line_has_nothing_left_to_return():
    refused = refusal(policy(), sold(quantity=2), SOLD_ON, quantity=1, already_claimed=3)
    assert "only 0 of 2" in refused.detail


def test_a_quantity_below_one_is_a_validation_error_not_a_refusal():
    with pytest.raises(ValidationFailed) as failed:
        check(policy(), sold(), SOLD_ON, quantity=0)
    assert not isinstance(failed.value, ReturnRefused)
    assert failed.value.errors[0].field == "quantity"


# --- reasons and shipping -------------------------------------------------------------


def test_an_unknown_reason_is_a_validation_error_on_the_reason_field():
    with pytest.raises(ValidationFailed) as failed:
        policy().reason("bored")
    assert failed.value.errors[0].field == "reason"
    assert "too_small" in failed.value.errors[0].reason
    assert policy().reason("too_small") is TOO_SMALL


def test_the_merchant_pays_shipping_when_any_reason_is_a_quality_reason():
    assert policy().shipping_payer([CHANGED_MIND, DEFECT]) is ShippingPayer.MERCHANT
    assert policy().shipping_payer([CHANGED_MIND, TOO_SMALL]) is ShippingPayer.CUSTOMER


def test_who_pays_shipping_is_configurable():
    generous = policy(other_payer=ShippingPayer.MERCHANT)
    assert generous.shipping_payer([CHANGED_MIND]) is ShippingPayer.MERCHANT


# --- nearest sizes for exchanges ------------------------------------------------------


def test_letter_sizes_are_ordered_by_distance_in_the_size_order():
    assert policy().nearest_sizes("M", ["XS", "XL", "S", "L"]) == ["L", "S", "XL", "XS"]


def test_numeric_sizes_are_ordered_by_distance_in_value():
    assert policy().nearest_sizes("32", ["28", "34", "30", "33", "40"]) == [
        "33",
        "30",
        "34",
        "28",
        "40",
    ]
    assert policy().nearest_sizes("9.5", ["8", "10", "9"]) == ["10", "9", "8"]


def test_unplaceable_sizes_come_last_and_an_unknown_wanted_size_sorts_by_name():
    assert policy().nearest_sizes("M", ["ONE", "XL", "S"]) == ["S", "XL", "ONE"]
    assert policy().nearest_sizes("ONE", ["M", "L", "S"]) == ["L", "M", "S"]


# --- the real configuration -----------------------------------------------------------


def test_the_real_config_file_parses_into_the_rules_the_business_asked_for():
    real = ReturnsPolicy.from_config(tomllib.loads(CONFIG.read_text()))
    assert set(real.windows) == {"online", "store"}
    assert all(days > 0 for days in [*real.windows.values(), *real.category_windows.values()])
    assert {"final_sale", "underwear"} <= real.excluded_categories
    assert real.gift_extra_days > 0
    assert all(w.sold_from <= w.sold_until < w.return_by for w in real.extended_windows)
    assert all(isinstance(d, date) for d in real.presale_release.values())
    assert real.condition_required == ("tags_on", "unworn", "unwashed")
    assert (real.quality_payer, real.other_payer) == (
        ShippingPayer.MERCHANT,
        ShippingPayer.CUSTOMER,
    )
    assert set(real.reasons) == {
        "too_small",
        "too_large",
        "quality_defect",
        "damaged_in_transit",
        "not_as_described",
        "wrong_item_sent",
        "changed_mind",
        "late_delivery",
        "other",
    }
    assert {c for c, r in real.reasons.items() if r.quality} == {
        "quality_defect",
        "damaged_in_transit",
        "not_as_described",
        "wrong_item_sent",
    }
    assert (real.reasons["too_small"].fit, real.reasons["too_large"].fit) == ("small", "large")
    assert real.size_order.index("S") < real.size_order.index("M") < real.size_order.index("L")
    assert isinstance(real.write_off_approval_threshold, Decimal)


def test_an_empty_config_gives_a_policy_with_the_documented_defaults():
    empty = ReturnsPolicy.from_config({})
    assert (empty.windows, empty.excluded_categories, empty.reasons) == ({}, frozenset(), {})
    assert empty.return_deadline(sold())[0] == SOLD_ON + timedelta(30)
    assert empty.write_off_approval_threshold == Decimal("100")
    assert empty.shipping_payer([]) is ShippingPayer.CUSTOMER


def test_today_is_the_businesss_date_not_the_servers():
    # 23:30 UTC on 31 March is already 1 April in Amsterdam: a window ending on 31 March has
    # closed there, though a UTC server still thinks it is the 31st.
    late_evening = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert policy(timezone="Europe/Amsterdam").today(late_evening) == date(2026, 4, 1)
    assert policy().today(late_evening) == date(2026, 3, 31)


def test_the_shipped_policy_counts_days_in_its_configured_time_zone():
    shipped = ReturnsPolicy.from_config(tomllib.loads(CONFIG.read_text()))
    assert shipped.timezone == "Europe/London"


def test_a_request_date_may_be_backdated_a_little_but_not_into_an_open_window():
    today = SOLD_ON + timedelta(days=400)
    shipped = ReturnsPolicy.from_config(tomllib.loads(CONFIG.read_text()))
    assert shipped.backdate_days == 14
    checked = policy(backdate_days=14)
    checked.check_requested_on(today - timedelta(days=14), today=today)  # a store's slow post
    for wrong in (today - timedelta(days=15), today + timedelta(days=1), date(1999, 1, 1)):
        with pytest.raises(ValidationFailed) as refused:
            checked.check_requested_on(wrong, today=today)
        assert refused.value.errors[0].field == "requested_on"
