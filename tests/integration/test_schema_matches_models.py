"""The migrations build exactly the schema the table definitions describe.

A migration that names an index differently from the model, or forgets a column, passes every
other test on a fresh database and then breaks the next `alembic revision --autogenerate`.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import returns_inventory.persistence.engine  # noqa: F401  (every table module is registered)
from returns_inventory.persistence.tables import metadata


def test_migrated_schema_matches_the_table_definitions(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, metadata)
    assert differences == []
