"""Opening the SQLite store: WAL, foreign keys, migrations after a timestamped backup, sessions.

One short session per action (``with store.session() as s: ...``); ids, not ORM objects, cross
threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from almdesk.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Store:
    """The database file at ``path``, migrated to the newest schema when opened."""

    def __init__(self, path: Path, *, migrate: bool = True, revision: str = "head") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(f"sqlite:///{self.path}", future=True)
        event.listen(self.engine, "connect", _on_connect)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.backup_path: Path | None = None
        if migrate:
            self.migrate(revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev

    def migrate(self, revision: str = "head") -> None:
        """Upgrade to ``revision``; refuse a DB written by a newer almdesk; back up before changing."""
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
        with self.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

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

