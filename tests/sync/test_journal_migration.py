"""Migration 0003: the journal gains ``timeout`` (unknown-fate creates); rows written before it are kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from almdesk.models import Base, Connector, JournalEntry, Store
from almdesk.models.store import head_revision


def test_upgrade_from_0002_keeps_journal_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Store(path, revision="0002_journal")
    with old.engine.begin() as conn:
        conn.exec_driver_sql("insert into connector (uid, name, system, params, network, inaccessible, created, "
                             "updated) values ('u', 'c', 'jira', '{}', '{}', 0, '2026-01-01', '2026-01-01')")
        conn.exec_driver_sql("insert into connection (alias, connector_id, frequency, debug_mode, params, "
                             "inaccessible, in_progress, created, updated) values ('a', 1, 'manually', 0, '{}', 0, 0, "
                             "'2026-01-01', '2026-01-01')")
        conn.exec_driver_sql("insert into journal (connection_id, task_pk, op, state, alm_ref, created) "
                             "values (1, 7, 'create', 'pending', '', '2026-01-01 00:00:00')")
    old.close()
    with sqlite3.connect(path) as raw:
        columns = {r[1] for r in raw.execute("pragma table_info(journal)")}
    assert "timeout" not in columns

    store = Store(path)
    assert store.current_revision() == head_revision()
    assert store.backup_path is not None and store.backup_path.exists()
    with store.session() as s:
        (entry,) = s.query(JournalEntry).all()
        assert (entry.task_pk, entry.op, entry.state, entry.timeout) == (7, "create", "pending", None)
        assert s.query(Connector).one().name == "c"
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
