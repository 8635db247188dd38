"""What `./scripts/run` prints while it migrates: one line a step, each with its logger's prefix."""

import logging

from sqlalchemy import create_engine

from returns_inventory.persistence.migrate import upgrade


def test_each_migration_step_is_logged_on_one_line(tmp_path, caplog):
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
        upgrade(engine)
    steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Running upgrade")]
    assert len(steps) > 10  # every revision, from an empty database
    wrapped = [step for step in steps if "\n" in step]
    assert wrapped == []
    # Revisions whose summary is wrapped in their file still read whole, words in order.
    assert any("inspection outcomes a grade leaves for the settlement step: the line's refund "
               "and the customer's answer" in step for step in steps)
