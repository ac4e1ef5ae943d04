"""The store: Alembic builds the models' schema, upgrades from the first revision, refuses newer DBs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from almdesk.errors import ConfigError
from almdesk.models import Base, Connector, Store
from almdesk.models.store import head_revision


def test_fresh_db_matches_models(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    assert store.current_revision() == head_revision()
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert store.integrity_check() == "ok"


def test_upgrade_from_first_revision_keeps_data_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Store(path, revision="0001_initial")
    assert old.current_revision() == "0001_initial"
    with old.session() as s:
        s.add(Connector(name="kept", system="jira", params={"url": "https://jira.example.com"}))
    old.close()
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("select name from sqlite_master where type='table'")}
    assert "journal" not in tables

    store = Store(path)
    assert store.current_revision() == head_revision()
    assert store.backup_path is not None and store.backup_path.exists()
    with store.session() as s:
        row = s.query(Connector).one()
        assert row.name == "kept" and row.params == {"url": "https://jira.example.com"}
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_newer_db_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("update alembic_version set version_num='9999_from_the_future'")
    with pytest.raises(ConfigError) as info:
        Store(path)
    assert "newer version of almdesk" in info.value.message
    assert "--data-dir" in info.value.hint
