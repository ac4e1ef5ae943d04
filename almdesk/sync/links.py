"""The links of one connection (task ↔ ALM item): read as snapshots, written with bulk statements.

A sync of 5,000 tasks reads and writes 5,000 links, so nothing here builds ORM objects: rows are read
as plain columns and written with ``insert``/``update`` statements (executemany), inside the caller's
transaction where the journal must commit with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from almdesk.base.records import RemoteItem
from almdesk.models import Link, Store
from almdesk.sync.plan import LinkSnapshot, PlanEntry

IN_CHUNK = 500  # ids per "IN (…)" (SQLite allowed 999 bound parameters before 3.32)


class Links:
    """Link rows of one connection."""

    def __init__(self, store: Store, connection_id: int) -> None:
        self.store = store
        self.connection_id = connection_id

    def load(self) -> dict[int, LinkSnapshot]:
        """Every link of the connection by task pk."""
        with self.store.session() as s:
            rows = s.execute(select(Link.task_pk, Link.alm_ref, Link.alm_key, Link.url, Link.alm_done, Link.id,
                                    Link.alm_status, Link.state).where(Link.connection_id == self.connection_id)).all()
        return {row[0]: LinkSnapshot(*row) for row in rows}

    def values(self, task_pk: int, item: RemoteItem, seen: datetime) -> dict[str, object]:
        """The column values of the link of ``task_pk`` to ``item``."""
        return {"connection_id": self.connection_id, "task_pk": task_pk, "alm_ref": item.ref[:200],
                "alm_key": (item.key or item.ref)[:200], "url": item.url, "alm_status": (item.status or "")[:200],
                "alm_done": item.done, "seen": seen}

    def refresh(self, plan: Sequence[PlanEntry], known: dict[int, LinkSnapshot]) -> None:
        """Store every matched item's link and drop links whose item is gone, in one transaction.

        ``known`` are the links as :meth:`load` read them before the listing. A no-op re-sync of 5,000
        tasks matches 5,000 links whose values have not changed: those only get their ``seen`` time, in
        a few ``UPDATE … WHERE id IN (…)``; rows whose item changed (status, key, URL) are updated,
        new links inserted, in bulk.
        """
        seen = datetime.now(UTC)
        stale = [e.task.pk for e in plan if e.stale_link and e.item is None]
        unchanged: list[int] = []
        updates: list[dict[str, object]] = []
        inserts: list[dict[str, object]] = []
        for entry in plan:
            if entry.item is None:
                continue
            values = self.values(entry.task.pk, entry.item, seen)
            old = known.get(entry.task.pk)
            if old is None or not old.id:
                inserts.append(values)
            elif (old.alm_ref, old.alm_key, old.url, old.alm_status, old.alm_done) == (
                    values["alm_ref"], values["alm_key"], values["url"], values["alm_status"], values["alm_done"]):
                unchanged.append(old.id)
            else:
                updates.append({"id": old.id, **values})
        with self.store.session() as s:
            for part in chunks(stale, IN_CHUNK):
                s.execute(delete(Link).where(Link.connection_id == self.connection_id, Link.task_pk.in_(part)))
            for part in chunks(unchanged, IN_CHUNK):
                s.execute(update(Link).where(Link.id.in_(part)).values(seen=seen)
                          .execution_options(synchronize_session=False))
            if updates:
                s.execute(update(Link), updates)
            if inserts:
                s.execute(insert(Link), inserts)

    def put(self, s: Session, items: Iterable[tuple[int, RemoteItem]]) -> None:
        """Insert or update the links ``(task pk, item)`` inside the caller's transaction ``s``."""
        seen = datetime.now(UTC)
        pairs = list(items)
        if not pairs:
            return
        existing: dict[int, int] = {}
        for part in chunks([pk for pk, _ in pairs], IN_CHUNK):
            existing.update((pk, lid) for pk, lid in s.execute(select(Link.task_pk, Link.id).where(
                Link.connection_id == self.connection_id, Link.task_pk.in_(part))))
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        for pk, item in pairs:
            values = self.values(pk, item, seen)
            if pk in existing:
                updates.append({"id": existing[pk], **values})
            else:
                inserts.append(values)
        if updates:
            s.execute(update(Link), updates)
        if inserts:
            s.execute(insert(Link), inserts)


def chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
