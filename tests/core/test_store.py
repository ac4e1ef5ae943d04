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


def test_quick_head_matches_alembic() -> None:
    from almdesk.models.store import quick_head

    assert quick_head() == head_revision()


def test_store_at_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    """Start-up cost: a store already at the newest schema is checked with sqlite3, not Alembic."""
    import subprocess
    import sys

    path = tmp_path / "a.db"
    Store(path).close()
    code = ("import sys; from pathlib import Path; from almdesk.models.store import Store, stored_revision; "
            f"s = Store(Path({str(path)!r})); print(stored_revision(s.path), 'alembic' in sys.modules); s.close()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [head_revision(), "False"]
    with sqlite3.connect(path) as raw:  # another connection holds the WAL open: still read
        raw.execute("select 1")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [head_revision(), "False"]


@pytest.mark.parametrize("name", ["a#b", "a%41b", "a?b", "a b"])
def test_store_in_a_directory_with_url_characters(tmp_path: Path, name: str) -> None:
    """A data directory whose name has '#', '%', '?' or a space: the store opens that very file, and a store
    at head is still told by the quick sqlite3 read (no Alembic)."""
    from almdesk.models.store import stored_revision

    path = tmp_path / name / "almdesk.db"
    store = Store(path)
    with store.session() as s:
        s.add(Connector(name="kept", system="jira", params={}))
    store.close()
    assert [p.name for p in (tmp_path / name).glob("*.db")] == ["almdesk.db"]
    assert stored_revision(path) == head_revision()
    with Store(path).session() as s:
        assert s.query(Connector).one().name == "kept"
