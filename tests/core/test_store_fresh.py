"""A new store is created from the models' metadata, stamped at the head, without Alembic; its schema is
the one the migrations give (tables, columns with types, nullability and defaults, indexes, unique
constraints, foreign keys, the ``alembic_version`` row), and a store that is not empty still goes
through Alembic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from almdesk.models import Base, Connector, Store
from almdesk.models.store import head_revision, stored_revision


def schema(path: Path) -> dict[str, Any]:
    """Everything SQLite knows of the schema but the CREATE statements' formatting (a batch migration
    rewrites those) and the order of the constraints in them."""
    conn = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {}
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' "
                                             "and name not like 'sqlite_%' order by name")]
        for table in tables:
            columns = [tuple(r[1:]) for r in conn.execute(f"pragma table_xinfo('{table}')")]  # name type notnull default pk
            indexes = []
            for _seq, name, unique, origin, partial in conn.execute(f"pragma index_list('{table}')"):
                cols = tuple(r[2] for r in conn.execute(f"pragma index_info('{name}')"))
                # SQLite names the indexes of UNIQUE/PRIMARY KEY constraints itself (sqlite_autoindex_…_N)
                indexes.append((name if origin == "c" else origin, unique, origin, partial, cols))
            keys = sorted(tuple(r[2:]) for r in conn.execute(f"pragma foreign_key_list('{table}')"))
            out[table] = {"columns": columns, "indexes": sorted(indexes), "foreign_keys": keys}
        out["alembic_version rows"] = conn.execute("select * from alembic_version").fetchall()
        out["other objects"] = conn.execute("select type, name from sqlite_master where type not in "
                                            "('table', 'index') order by name").fetchall()
        return out
    finally:
        conn.close()


def test_a_new_store_has_the_migrated_schema(tmp_path: Path) -> None:
    fresh = Store(tmp_path / "fresh.db")
    fresh.close()
    migrated = Store(tmp_path / "migrated.db", revision="0001_initial")
    assert stored_revision(migrated.path) == "0001_initial"
    migrated.migrate()  # 0001 → head through Alembic, as an old user's file
    migrated.close()

    made, upgraded = schema(fresh.path), schema(migrated.path)
    assert made["alembic_version rows"] == [(head_revision(),)]
    assert set(made) == set(upgraded) and len(made) > 10
    for table in made:
        assert made[table] == upgraded[table], table
    # defaults the migrations give a column added to an existing table are in the models too
    defaults = {c[0]: c[3] for c in made["remote_item"]["columns"]}
    assert defaults["params"] == "'{}'" and defaults["mirrored"] == "0"


def test_a_new_store_is_created_without_alembic(tmp_path: Path) -> None:
    path = tmp_path / "new" / "almdesk.db"
    code = ("import sys; from pathlib import Path; from almdesk.models.store import Store, stored_revision; "
            f"s = Store(Path({str(path)!r})); s.close(); "
            "print(stored_revision(s.path), 'alembic' in sys.modules, s.backup_path)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [head_revision(), "False", "None"]
    store = Store(path)  # and it is usable as any store
    with store.session() as s:
        s.add(Connector(name="first", system="jira"))
    with store.session() as s:
        assert [c.name for c in s.query(Connector)] == ["first"]
    assert store.integrity_check() == "ok"
    store.close()


def test_an_empty_file_is_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "almdesk.db"
    path.touch()
    store = Store(path)
    assert stored_revision(path) == head_revision() and store.backup_path is None
    store.close()


def test_a_failed_creation_leaves_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables and the stamp are one transaction: a failure half-way leaves the file empty, and the
    next start creates it again (not an unstamped half schema Alembic would choke on)."""
    path = tmp_path / "almdesk.db"
    real = Base.metadata.create_all

    def half(bind: Any, checkfirst: bool = True) -> None:
        Base.metadata.tables["connector"].create(bind)
        raise OSError("disk full")

    monkeypatch.setattr(Base.metadata, "create_all", half)
    with pytest.raises(OSError):
        Store(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("select name from sqlite_master").fetchall() == []
    monkeypatch.setattr(Base.metadata, "create_all", real)
    store = Store(path)
    assert stored_revision(path) == head_revision()
    store.close()


def test_a_store_with_tables_but_no_stamp_is_left_to_alembic(tmp_path: Path) -> None:
    """Not empty: never created over (Alembic sees it and fails on the existing table, nothing dropped)."""
    path = tmp_path / "almdesk.db"
    with sqlite3.connect(path) as raw:
        raw.execute("create table connector (id integer primary key, kept text)")
        raw.execute("insert into connector (kept) values ('mine')")
    store = Store(path, migrate=False)
    assert store.create_fresh(head_revision()) is False
    with pytest.raises(Exception, match="already exists"):
        store.migrate()
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("select kept from connector").fetchall() == [("mine",)]
