"""Units sold and returned per item and sale day, kept by the writers of the lines.

The returns analytics sum these for a window instead of the sales lines themselves (millions
at a large retailer): a row per item and day sold, whatever the number of lines. Every writer
of sales lines, received return units and imported returns adds to them in its own
transaction (persistence/repositories/day_summary.py), so they always agree with the lines.

Their item_id names no foreign key: every row is summed from lines whose own key checked the
item (and items are never deleted), and checking it again cost the sales import a second per
300,000 lines (the key's trigger runs for each summary row written).
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, PrimaryKeyConstraint, String, Table

from .tables import metadata

# Keyed by day first: a window is a range of days, read in one walk of the key.
sales_by_day = Table(
    "sales_by_day",
    metadata,
    Column("sold_on", Date, nullable=False),
    Column("item_id", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    PrimaryKeyConstraint("sold_on", "item_id"),
)

# Units back per item SOLD, the day it was sold (an imported return whose sale is unknown:
# the day it came back, as the analytics count it) and customer reason; live returns'
# received units and imported ERP history together.
returns_by_sale_day = Table(
    "returns_by_sale_day",
    metadata,
    Column("sold_on", Date, nullable=False),
    Column("item_id", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("units", Integer, nullable=False),
    PrimaryKeyConstraint("sold_on", "item_id", "reason"),
)
