"""Revision 0006_remote_ids: a 0005 store upgrades (with a backup) to the remote tables and back down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from almdesk.models.store import Store, alembic_config, head_revision, quick_head


def test_a_0005_store_gets_the_remote_tables_and_loses_them_on_downgrade(tmp_path: Path) -> None:
    path = tmp_path / "almdesk.db"
    Store(path, revision="0005_project_source").close()
    store = Store(path)
    try:
        assert head_revision() == quick_head() == store.current_revision() == "0006_remote_ids"
        assert store.backup_path is not None and store.backup_path.exists()
        tables = set(inspect(store.engine).get_table_names())
        assert {"remote_item", "job_report"} <= tables
        uniques = inspect(store.engine).get_unique_constraints("remote_item")
        assert any(u["column_names"] == ["source_id", "kind", "server_id"] for u in uniques)
        cfg = alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005_project_source")
        assert not {"remote_item", "job_report"} & set(inspect(store.engine).get_table_names())
    finally:
        store.close()
