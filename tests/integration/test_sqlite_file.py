"""The embedded database file is private to the service's user."""

from __future__ import annotations

import stat

from sqlalchemy import text

from returns_inventory.persistence.engine import make_engine


def test_a_new_sqlite_database_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "instance" / "returns.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name(path.name + "-wal")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    engine.dispose()
    assert modes == {f.name: 0o600 for f in files}
