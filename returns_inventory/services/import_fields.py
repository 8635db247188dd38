"""Value parsers for import columns: each takes a CSV string or a JSON scalar.

They raise ValueError with the reason an ERP engineer reads in the 422 answer. They are
called millions of times per large import, so they stay plain functions without framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

MAX_INT = 2_000_000_000  # INTEGER columns hold 2^31 - 1; refuse before the database does
MAX_MONEY = Decimal("9999999999.99")  # NUMERIC(12, 2)
TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "n"})

Parser = Callable[[Any], Any]
BatchParser = Callable[[list[str]], list[str] | None]

# Column-at-a-time forms of the parsers, for the bulk CSV path: given one column of a batch
# of rows, the values as the text the database reads (str() of what the parser returns)
# when every cell is present and valid; otherwise None, and that batch is parsed row by row
# so that each bad cell is named. Same parser, same answer: only the per-cell Python goes.
BATCH: dict[Parser, BatchParser] = {}


def _by_distinct(parse: Parser) -> BatchParser:
    """For columns of few distinct values (dates, quantities, prices, codes): each is
    parsed once a batch."""

    def batch(values: list[str]) -> list[str] | None:
        texts = {}
        for raw in set(values):
            try:
                texts[raw] = str(parse(raw))
            except ValueError:
                return None
        return list(map(texts.__getitem__, values))

    return batch


def as_text(value: Any) -> str:
    """JSON numbers are taken as text too (an order number may arrive as 1001)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ValueError("must be text")
    return str(value)


def text(max_length: int) -> Parser:
    def parse(value: Any) -> str:
        result = as_text(value)
        if len(result) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return result

    def batch(values: list[str]) -> list[str] | None:
        stripped = list(map(str.strip, values))
        if "" in stripped or max(map(len, stripped), default=0) > max_length:
            return None
        return stripped

    BATCH[parse] = batch
    return parse


def whole_number(minimum: int = -MAX_INT, maximum: int = MAX_INT) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        if isinstance(value, int):
            number = value
        else:
            raw = as_text(value)
            try:
                number = int(raw)
            except ValueError:
                raise ValueError(f"must be a whole number, not {raw[:40]!r}") from None
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        if number > maximum:
            raise ValueError(f"must be at most {maximum}")
        return number

    BATCH[parse] = _by_distinct(parse)
    return parse


def money(value: Any) -> Decimal:
    raw = value if isinstance(value, Decimal | int) and not isinstance(value, bool) else None
    try:
        amount = Decimal(raw if raw is not None else as_text(value))
    except InvalidOperation:
        raise ValueError(f"must be a decimal amount like 12.50, not {str(value)[:40]!r}") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount > MAX_MONEY:
        raise ValueError(f"must be at most {MAX_MONEY}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def iso_date(value: Any) -> date:
    raw = as_text(value)
    # date.fromisoformat also takes 20261123 and week dates; ERPs must send YYYY-MM-DD.
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        raise ValueError(f"must be a date as YYYY-MM-DD, not {raw[:40]!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a calendar date") from None


def one_of(choices: Iterable[str]) -> Parser:
    allowed = tuple(choices)
    known = frozenset(allowed)

    def parse(value: Any) -> str:
        result = as_text(value).lower()
        if result not in known:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return result

    BATCH[parse] = _by_distinct(parse)
    return parse


# Amounts already written as money() writes them (12.50), one a line: prices are too
# varied to parse each distinct one.
_MONEY_TEXTS = re.compile(r"(?:(?:0|[1-9][0-9]{0,9})\.[0-9][0-9]\n)*")
_money_by_distinct = _by_distinct(money)


def _money_batch(values: list[str]) -> list[str] | None:
    joined = "\n".join(values) + "\n"
    if joined.count("\n") == len(values) and _MONEY_TEXTS.fullmatch(joined):
        return values  # (a cell holding a line break would have split into two)
    return _money_by_distinct(values)


BATCH[money] = _money_batch
BATCH[iso_date] = _by_distinct(iso_date)


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = as_text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("must be true or false")


def image_url(value: Any) -> str:
    """A picture's address: a path on this site, or an http(s) URL (never javascript: or
    data:); whether the bench shows it is decided by the allowed hosts when it is shown."""
    text = as_text(value)
    if len(text) > 500:
        raise ValueError("must be at most 500 characters")
    if text.startswith("/") and not text.startswith("//"):
        return text
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.hostname:
        return text
    raise ValueError("must be a path on this site (/...) or an http(s) URL")


def gtin(value: Any) -> str:
    """A GS1 barcode number (GTIN-8, -12, -13 or -14) whose check digit adds up."""
    digits = as_text(value)
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError("must be 8, 12, 13 or 14 digits")
    body, check = digits[:-1], int(digits[-1])
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    if (10 - weighted % 10) % 10 != check:
        raise ValueError("check digit does not match")
    return digits
