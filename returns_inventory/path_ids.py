"""Numbers in URL paths: an id the database cannot hold names no row (404), never a 500."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Most tables' keys are INTEGER, which PostgreSQL keeps in 32 bits: binding a larger number
# to compare with one fails in the database (a server error) instead of finding nothing.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>`: an id in a table with 32-bit keys (runs, exchanges, write-offs, webhooks);
    a larger number matches no route, so it answers 404 like any unknown URL."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


class BigIdConverter(IntegerConverter):
    """`<bigid:...>`: an id in a table with 64-bit keys (replenishment suggestions)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)


# Registered on the app's URL map before any blueprint adds a rule that uses them.
CONVERTERS = {"int": RowIdConverter, "bigid": BigIdConverter}
