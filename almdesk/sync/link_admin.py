"""Links an admin can see and change: list a connection's links, link a task to an existing item, unlink it.

Used by the CLI (``almdesk links / link / unlink``) and the GUI's links table alike; widgets only draw
what :func:`list_links` returns.

* :func:`list_links` — one :class:`LinkView` per task that has a link row or failed in the latest sync:
  state ``linked``, ``detached`` (unlinked: the sync leaves the task alone) or ``failed`` (the latest
  finished sync of the connection reported a failure for the task; its message is kept).
* :func:`link_task` — attach a task to an item that already exists, named by key, number or URL. The
  adapter's ``get_item(text)`` reads it and checks it is in the connection's target (nothing is created).
  An item marked for another context, or linked by another task or connection, is refused.
* :func:`unlink_task` — detach a task: its link row stays (state ``detached``, so the table still says
  which item it was) and later syncs neither re-link nor re-create its item until it is linked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from almdesk.base.records import RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.models import Connection, Job, JobEventRow, Link, Store, Task
from almdesk.net.session import HttpFactory
from almdesk.sync.identity import check_identity
from almdesk.sync.links import Links
from almdesk.sync.plan import DETACHED, LINKED, aware
from almdesk.systems.base import System
from almdesk.systems.marks import OTHER, mark_verdict

FAILED = "failed"
STATES = (LINKED, DETACHED, FAILED)


@dataclass(frozen=True)
class LinkView:
    """One row of a connection's links table."""

    task_id: str
    title: str
    alm_key: str
    alm_ref: str
    url: str
    status: str  # the item's status when the sync last saw it
    seen: datetime | None
    state: str  # linked | detached | failed
    message: str = ""  # why it failed (the latest sync's event)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seen"] = self.seen.isoformat() if self.seen else None
        return out


def task_id_of_event(item: str) -> str:
    """The task id of a sync event's item label (``"T5 Use TLS"`` -> ``T5``)."""
    return item.split(" ", 1)[0] if item else ""


def _connection_project(store: Store, connection_id: int) -> int:
    with store.session() as s:
        row = s.get(Connection, connection_id)
        if row is None:
            raise ConfigError("The connection no longer exists.", "Reload the list.", field="connection")
        if row.project_id is None:
            raise ConfigError(f"Connection {row.alias!r} has no project.",
                              "Edit the connection and choose the project whose tasks it syncs.", field="project")
        return row.project_id


def failures(store: Store, connection_id: int) -> tuple[dict[str, str], datetime | None]:
    """Task id -> message of the failures the latest finished sync of the connection reported, and when
    that sync ended (a link written later, by :func:`link_task`, is not failed)."""
    with store.session() as s:
        job = s.execute(select(Job.id, Job.last_run).where(Job.connection_id == connection_id, Job.kind == "sync",
                                                           Job.in_progress.is_(False))
                        .order_by(Job.id.desc()).limit(1)).first()
        if job is None:
            return {}, None
        rows = s.execute(select(JobEventRow.item, JobEventRow.message).where(
            JobEventRow.job_id == job[0], JobEventRow.status == "failed").order_by(JobEventRow.id)).all()
    return {task_id_of_event(item): message for item, message in rows if task_id_of_event(item)}, aware(job[1])


def list_links(store: Store, connection_id: int) -> list[LinkView]:
    """The connection's links (and the tasks that failed in its latest sync), by task id."""
    project = _connection_project(store, connection_id)
    failed, ended = failures(store, connection_id)
    with store.session() as s:
        rows = s.execute(select(Task.task_id, Task.title, Link.alm_key, Link.alm_ref, Link.url, Link.alm_status,
                                Link.seen, Link.state)
                         .join(Link, Link.task_pk == Task.id)
                         .where(Link.connection_id == connection_id, Task.project_id == project)).all()
        titles = dict(s.execute(select(Task.task_id, Task.title).where(
            Task.project_id == project, Task.task_id.in_(list(failed)))).all()) if failed else {}
    out: dict[str, LinkView] = {}
    for tid, title, key, ref, url, status, raw_seen, state in rows:
        state = state or LINKED
        seen = aware(raw_seen)
        later = ended is not None and seen is not None and seen > ended  # linked again since
        message = failed.get(tid, "") if state != DETACHED and not later else ""
        out[tid] = LinkView(tid, title, key, ref, url, status, seen, FAILED if message else state, message)
    for tid, message in failed.items():
        if tid not in out and tid in titles:
            out[tid] = LinkView(tid, titles[tid], "", "", "", "", None, FAILED, message)
    return sorted(out.values(), key=lambda v: _natural(v.task_id))


def _natural(task_id: str) -> tuple[str, int, str]:
    head = task_id.rstrip("0123456789")
    tail = task_id[len(head):]
    return (head, int(tail) if tail else -1, task_id)


def filter_links(rows: Sequence[LinkView], text: str = "", state: str = "") -> list[LinkView]:
    """Rows whose task id, title, key, URL or status contain ``text`` (any case) and whose state is ``state``."""
    needle = text.strip().casefold()
    return [r for r in rows if (not state or r.state == state) and (
        not needle or any(needle in v.casefold() for v in (r.task_id, r.title, r.alm_key, r.url, r.status)))]


def _task(store: Store, project_id: int, task_id: str) -> tuple[int, str]:
    with store.session() as s:
        row = s.execute(select(Task.id, Task.title).where(Task.project_id == project_id,
                                                          Task.task_id == task_id.strip())).first()
    if row is None:
        raise ConfigError(f"The connection's project has no task {task_id!r}.",
                          "Use a task id as 'almdesk links' or the Projects view shows it, e.g. T21.", field="task")
    return int(row[0]), str(row[1])


def unlink_task(store: Store, connection_id: int, task_id: str) -> LinkView:
    """Detach ``task_id``: syncs leave it alone (no look-up, no create) until :func:`link_task` links it again."""
    project = _connection_project(store, connection_id)
    pk, _ = _task(store, project, task_id)
    with store.session() as s:
        lid = s.scalar(select(Link.id).where(Link.connection_id == connection_id, Link.task_pk == pk))
        if lid is None:  # never linked: detached all the same, so no sync creates its item
            s.execute(insert(Link).values(connection_id=connection_id, task_pk=pk, alm_ref="", alm_key="", url="",
                                          alm_status="", alm_done=False, seen=datetime.now(UTC), state=DETACHED))
        else:
            s.execute(update(Link).where(Link.id == lid).values(state=DETACHED))
    return _view(store, connection_id, task_id)


def link_task(store: Store, system: System, connection: ConnectionSettings, http: HttpFactory, task_id: str,
              item_text: str, ctx: JobContext | None = None) -> LinkView:
    """Link ``task_id`` to the existing item ``item_text`` (key, number or URL); nothing is created."""
    if connection.id is None:
        raise ConfigError("The connection is not saved.", "Save it first.", field="connection")
    connection_id = connection.id
    project = _connection_project(store, connection_id)
    pk, _ = _task(store, project, task_id)
    ident = check_identity(store, system, connection)
    if not item_text.strip():
        raise ConfigError("Name the item to link.", "Give its key, number or URL.", field="item")
    ctx = ctx or JobContext()
    http.add_secrets(v for v in connection.connector.secrets.values() if v)
    adapter = system.sync_adapter(connection, http, ctx)
    get_item = getattr(adapter, "get_item", None)
    if not callable(get_item):
        raise ConfigError(f"{system.label} connections cannot link existing items yet.", "Let the sync find or "
                          "create the item instead.", field="item")
    try:
        adapter.prepare()
        item: RemoteItem = get_item(item_text.strip())
    finally:
        adapter.close()
    if mark_verdict(item.marks, ident.mark) == OTHER:
        raise ConfigError(f"{item.key} carries another context's mark ({', '.join(item.marks)}): it belongs to "
                          "another connection.", "Link a task to an item of this connection's context.", field="item")
    if item.ref in ident.taken:
        others = ", ".join(repr(n.alias) for n in ident.neighbours)
        raise ConfigError(f"{item.key} is linked by another connection on the same ALM target ({others}).",
                          "Unlink it there first, or link another item.", field="item")
    with store.session() as s:
        owner = s.execute(select(Task.task_id).join(Link, Link.task_pk == Task.id).where(
            Link.connection_id == connection_id, Link.alm_ref == item.ref, Link.task_pk != pk,
            Link.state == LINKED)).first()
        if owner is not None:
            raise ConfigError(f"{item.key} is already linked to task {owner[0]} of this connection.",
                              f"Unlink {owner[0]} first (almdesk unlink {connection.alias} {owner[0]}).",
                              field="item")
        values = {**Links(store, connection_id).values(pk, item, datetime.now(UTC)), "state": LINKED}
        lid = s.scalar(select(Link.id).where(Link.connection_id == connection_id, Link.task_pk == pk))
        if lid is None:
            s.execute(insert(Link).values(**values))
        else:
            s.execute(update(Link).where(Link.id == lid).values(**values))
    return _view(store, connection_id, task_id)


def _view(store: Store, connection_id: int, task_id: str) -> LinkView:
    found = [v for v in list_links(store, connection_id) if v.task_id == task_id.strip()]
    assert found, task_id
    return found[0]
