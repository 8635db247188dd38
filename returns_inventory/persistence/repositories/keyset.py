"""Keyset pagination: a page starts after the last row of the one before, found through the
ordering's index, instead of counting past every earlier row (OFFSET walks them all).

A cursor carries the last row's values of the sort columns and its id, as opaque text the
client sends back; the order is the sort columns, then the id, NULLs last either way.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, false, or_


@dataclass(frozen=True)
class Key:
    """One column of an ordering."""

    name: str
    expr: Any
    descending: bool = False
    nullable: bool = False

    def order(self, *, reverse: bool = False):
        descending = self.descending != reverse
        term = self.expr.desc() if descending else self.expr.asc()
        if not self.nullable:
            return term  # plain, so an index in either direction serves it
        return term.nulls_first() if reverse else term.nulls_last()

    def beyond(self, value, *, reverse: bool = False):
        """Rows strictly after `value` in this column (None: no row is)."""
        descending = self.descending != reverse
        if value is None:
            # NULLs come last, or first when walking backwards.
            return self.expr.is_not(None) if reverse else None
        past = self.expr < value if descending else self.expr > value
        if self.nullable and not reverse:
            return or_(past, self.expr.is_(None))
        return past

    @property
    def kind(self) -> type:
        """The Python type the column's values come as (object when the type does not say)."""
        try:
            return self.expr.type.python_type
        except NotImplementedError:
            return object

    def equal(self, value):
        return self.expr.is_(None) if value is None else self.expr == value


def ordering(keys: list[Key], *, reverse: bool = False) -> list:
    return [k.order(reverse=reverse) for k in keys]


def after(keys: list[Key], values: list, *, reverse: bool = False):
    """Rows after the row whose key values these are (before it, with `reverse`)."""
    terms, same = [], []
    for key, value in zip(keys, values, strict=True):
        beyond = key.beyond(value, reverse=reverse)
        if beyond is not None:
            terms.append(and_(*same, beyond))
        same.append(key.equal(value))
    condition = or_(*terms) if terms else false()
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        # Implied by the terms, but spelt out so the index scan starts at the cursor
        # instead of filtering every row before it.
        descending = first.descending != reverse
        condition = and_(first.expr <= value if descending else first.expr >= value,
                         condition)
    return condition


def encode(sort: str, values: list) -> str:
    text = json.dumps({"s": sort, "v": [_plain(v) for v in values]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, kinds: Sequence[type]) -> list:
    """The key values of a cursor made for this sort, one of each kind (or None) in turn;
    ValueError if it is not one. A client may edit a cursor: a value the database could not
    take (an int past 64 bits, a NUL in text, a NaN) or of another column's kind would fail
    the read, a 500, where it is the client's bad `after`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = [_typed(v) for v in document["v"]]
        made_for = document["s"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError,
            InvalidOperation) as exc:
        raise ValueError("not a cursor this list gave") from exc
    if made_for != sort or len(values) != len(kinds):
        raise ValueError("a cursor of a list sorted otherwise")
    if not all(v is None or (isinstance(v, kind) and _storable(v))
               for v, kind in zip(values, kinds, strict=True)):
        raise ValueError("not a cursor this list gave")
    return values


def _storable(value) -> bool:
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, Decimal):
        return value.is_finite()
    return True


def _plain(value):
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"day": value.isoformat()}
    return value


def _typed(value):
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"])
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        return date.fromisoformat(value["day"])
    if value is None or (isinstance(value, int | str) and not isinstance(value, bool)):
        return value
    raise ValueError(f"not a key value: {value!r}")
