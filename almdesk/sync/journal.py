"""The sync journal: a row before and after every server write, so an interrupted sync resumes safely.

Before a write the engine records ``pending`` entries (one per task, op ``create``/``close``/
``reopen``) in their own committed transaction; after it, the same transaction that stores the link
marks them ``done`` (or ``failed``, or ``unknown``: see below). What a resumed sync learns from leftovers:

* a ``create`` whose outcome is unknown (``pending``) — the server may have made the item. Nothing
  is re-sent blindly: the next sync's lookup pass finds items by fixed title and links them, and only
  tasks still without an item are created again. No duplicates, no lost tasks.
* a ``create`` of a task that was DONE/NA — if the item turns up open, the close that should have
  followed the creation is finished (whatever the conflict policy says), so the task's status is not
  lost to the ALM's "new item" state.
* a ``create`` marked ``unknown`` — it was sent and failed in a way that leaves its fate open (read
  timeout, HTTP 504, a reset after sending; :func:`almdesk.base.failures.fate_unknown`), with the
  connector's ``timeout`` then. The server may still make the item after the next sync has looked
  for it, so for :data:`WAIT_FACTOR` × that timeout after the failure the task is not created again
  (:meth:`Journal.waiting_creates`; the sync reports it as waiting); after that the lookup by title
  decides (found: linked; not found: created).

A completed sync forgets what it settled (see :meth:`Journal.settle`). :class:`SyncLock` keeps two syncs of the same
connection (GUI and cron, two windows) from running at once; the OS drops it when a process dies.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from almdesk.errors import ConfigError
from almdesk.models import JournalEntry, Link, Store
from almdesk.sync.plan import aware

OPS = ("create", "close", "reopen", "update-local")
UNKNOWN = "unknown"  # the state of a create whose outcome is unknown
WAIT_FACTOR = 2.0  # an unknown-fate create blocks re-creating its task for this many connector timeouts


class Journal:
    """Journal entries of one connection, for one sync run."""

    def __init__(self, store: Store, connection_id: int, job_id: int | None = None) -> None:
        self.store = store
        self.connection_id = connection_id
        self.job_id = job_id

    def leftover_creates(self) -> set[int]:
        """Task pks with a ``create`` entry an earlier sync left: interrupted (``pending``), ``failed`` or
        ``unknown`` — an item found for them by title may be almdesk's own (see :meth:`settle`)."""
        with self.store.session() as s:
            return set(s.scalars(select(JournalEntry.task_pk).where(
                JournalEntry.connection_id == self.connection_id, JournalEntry.op == "create")))

    def waiting_creates(self, now: datetime | None = None) -> dict[int, datetime]:
        """Task pks whose create failed with an unknown fate too recently to create them again: each with
        the time until which the server may still make the item (failure + WAIT_FACTOR × timeout)."""
        now = now or datetime.now(UTC)
        with self.store.session() as s:
            rows = s.execute(select(JournalEntry.task_pk, JournalEntry.finished, JournalEntry.created,
                                    JournalEntry.timeout).where(
                JournalEntry.connection_id == self.connection_id, JournalEntry.op == "create",
                JournalEntry.state == UNKNOWN)).all()
        out: dict[int, datetime] = {}
        for pk, finished, created, timeout in rows:
            at = aware(finished or created)
            if at is None:
                continue
            until = at + timedelta(seconds=WAIT_FACTOR * float(timeout or 0.0))
            if until > now and (pk not in out or until > out[pk]):
                out[pk] = until
        return out

    def begin(self, op: str, items: Iterable[tuple[int, str]]) -> list[int]:
        """Record pending entries ``(task_pk, alm_ref)`` and commit them; return their ids."""
        assert op in OPS, op
        now = datetime.now(UTC)
        values = [{"connection_id": self.connection_id, "job_id": self.job_id, "task_pk": pk, "op": op,
                   "state": "pending", "alm_ref": ref, "created": now} for pk, ref in items]
        if not values:
            return []
        with self.store.session() as s:
            stmt = insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True)
            return list(s.scalars(stmt, values))

    @staticmethod
    def finish(s: Session, entry_id: int, state: str, alm_ref: str = "") -> None:
        """Mark one entry done/failed inside the caller's transaction (the one that stores the link)."""
        Journal.finish_many(s, [(entry_id, state, alm_ref)])

    @staticmethod
    def finish_many(s: Session, entries: Sequence[tuple[int, str, str]], *, timeout: float | None = None) -> None:
        """Mark ``(id, state, alm_ref)`` entries in one statement, inside the caller's transaction.

        ``unknown`` entries also get ``timeout`` (the connector's, in seconds): see :meth:`waiting_creates`.
        """
        if not entries:
            return
        now = datetime.now(UTC)
        s.execute(update(JournalEntry), [{"id": i, "state": state, "finished": now, **({"alm_ref": ref} if ref else {}),
                                          **({"timeout": timeout} if state == UNKNOWN else {})}
                                         for i, state, ref in entries])

    def settle(self, keep: Iterable[int] = ()) -> None:
        """After a completed sync, forget what has been settled.

        Kept: ``create`` entries of tasks that still have no link (the item may exist — created but
        its answer lost — and the next lookup must know it was ours), and entries of ``keep`` tasks
        (e.g. a new item whose close failed).
        """
        keep = list(keep)
        with self.store.session() as s:
            linked = select(Link.task_pk).where(Link.connection_id == self.connection_id)
            s.execute(delete(JournalEntry).where(
                JournalEntry.connection_id == self.connection_id,
                or_(JournalEntry.op != "create", JournalEntry.task_pk.in_(linked)),
                JournalEntry.task_pk.not_in(keep)))

    def clear(self) -> None:
        """Forget everything of this connection."""
        with self.store.session() as s:
            s.execute(delete(JournalEntry).where(JournalEntry.connection_id == self.connection_id))

    def entries(self) -> Sequence[JournalEntry]:
        with self.store.session() as s:
            return s.scalars(select(JournalEntry).where(JournalEntry.connection_id == self.connection_id)
                             .order_by(JournalEntry.id)).all()


class SyncLock:
    """An exclusive, non-blocking OS file lock per connection, next to the database.

    Held for the whole sync; released on exit, and by the OS when the process is killed.
    """

    def __init__(self, store: Store, connection_id: int, alias: str) -> None:
        self.path = Path(f"{store.path}.sync-{connection_id}.lock")
        self.alias = alias
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        f = open(self.path, "a+b")  # noqa: SIM115 - held open while the lock is held
        try:
            _lock(f)
        except OSError:
            f.close()
            raise ConfigError(f"A sync of connection {self.alias!r} is already running.",
                              "Wait for it to finish (see the Jobs view), then start the sync again.",
                              field="connection") from None
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            try:
                _unlock(self._file)
            finally:
                self._file.close()
                self._file = None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: IO[bytes]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
