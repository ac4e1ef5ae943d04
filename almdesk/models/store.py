"""Opening the SQLite store: WAL, foreign keys, migrations after a timestamped backup, sessions.

One short session per action (``with store.session() as s: ...``); ids, not ORM objects, cross
threads. Opening a store that is already at the newest schema reads ``alembic_version`` with plain
``sqlite3`` and never imports Alembic (a quarter of a second of every start-up). A new, empty store is
created from the models' metadata and stamped at the head revision in one transaction, again without
Alembic (the same schema as the migrations give: ``tests/core/test_store_fresh.py``). Alembic is
imported only to upgrade an existing database, or to refuse one written by a newer almdesk.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    URL,
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.orm import Session, sessionmaker

from almdesk.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic's own version table, as ``alembic.runtime.migration`` defines it
VERSION_TABLE = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                      PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
_REVISION_RE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)", re.M)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest schema revision, as Alembic computes it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@cache
def quick_head() -> str | None:
    """The head revision read from the migration scripts' ``revision``/``down_revision`` lines without
    importing Alembic; None when it cannot be told for sure (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) or m.group(3) for m in _REVISION_RE.finditer(script.read_text("utf-8"))}
        if "revision" not in found or "down_revision" not in found:
            continue
        revisions.add(found["revision"] or "")
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(path: Path) -> str | None:
    """The revision in the database's ``alembic_version`` table (plain sqlite3), None if there is none."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        # as a URI (percent-encoded: a '#', '?' or '%' in a directory name is part of the path)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("select version_num from alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _begin_immediate(conn: Connection) -> None:
    """A write transaction that covers DDL too: ``sqlite3`` (the driver) opens one by itself only
    before an INSERT/UPDATE/DELETE, so a CREATE TABLE would otherwise commit on its own."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The database file at ``path``, migrated to the newest schema when opened."""

    def __init__(self, path: Path, *, migrate: bool = True, revision: str = "head") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # URL.create: the path as it is (an f-string URL would decode a '%41' in a directory name)
        self.engine: Engine = create_engine(URL.create("sqlite", database=str(self.path)), future=True)
        event.listen(self.engine, "connect", _on_connect)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.backup_path: Path | None = None
        if migrate:
            self.migrate(revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev

    def migrate(self, revision: str = "head") -> None:
        """Upgrade to ``revision``; refuse a DB written by a newer almdesk; back up before changing."""
        if revision == "head" and (head := quick_head()) is not None:
            stored = stored_revision(self.path)
            if stored == head:
                return  # already at the newest schema: no Alembic import, no script walk
            if stored is None and self.create_fresh(head):
                return  # a new store: created at the newest schema, no Alembic either
        from alembic import command
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        current = self.current_revision()
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise ConfigError(f"The database {self.path} was written by a newer version of almdesk "
                              f"(schema {current}).",
                              "Install the newer almdesk again, or start with another data directory "
                              "(--data-dir).")
        target = script.get_current_head() if revision == "head" else revision
        if current == target:
            return
        if current is not None and self.path.exists() and self.path.stat().st_size > 0:
            self.backup_path = self.backup()
        with self.engine.connect() as conn:
            # SQLite rebuilds a table to alter it (batch mode): with foreign keys on, dropping the old
            # table would cascade into every table referring to it (a project's tasks, their links).
            # SQLite's own procedure: keys off (outside a transaction), migrate, check, keys on.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            try:
                with conn.begin():
                    cfg = alembic_config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ConfigError(f"Upgrading {self.path} left {len(broken)} broken reference(s) "
                                          f"(first: {broken[0]}); nothing was changed.",
                                          f"Send the support bundle; the database before the upgrade is "
                                          f"{self.backup_path or self.path}.")
            finally:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()

    def create_fresh(self, head: str) -> bool:
        """Create the models' tables and stamp ``head`` when the database has no table at all (a new
        store), in one transaction (a crash leaves an empty file, created again on the next start).
        False, and nothing done, when it has any table: then Alembic looks at it."""
        from almdesk.models.tables import Base

        with self.engine.connect() as conn:
            _begin_immediate(conn)  # DDL inside the transaction; writers wait
            if conn.exec_driver_sql("select count(*) from sqlite_master").scalar():
                conn.rollback()
                return False
            Base.metadata.create_all(conn, checkfirst=False)
            VERSION_TABLE.create(conn)
            conn.execute(VERSION_TABLE.insert().values(version_num=head))
            conn.commit()
        return True

    def backup(self) -> Path:
        """A consistent copy of the DB file next to it, named with a timestamp."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.stem}-backup-{stamp}{self.path.suffix}")
        src = sqlite3.connect(self.path)
        try:
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
        return target

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A short transaction: committed on success, rolled back on error."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())

    def close(self) -> None:
        self.engine.dispose()

