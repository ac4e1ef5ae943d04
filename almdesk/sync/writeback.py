"""What a sync settles, written back to the SD Elements project its tasks come from.

After the engine has synced a bound project through one connection:

* **status** — a task whose local status differs from the server's last known status had its
  conflict settled for the ALM (the engine's update-local): the server task is PATCHed to a status
  with that *meaning* (the first status of the server's list with it; custom statuses too) with a
  ``status_note`` naming the ALM item. Before the PATCH, ``source_task.sent_status`` is committed;
  after it, the server status is recorded. A sync killed in between (or before the PATCH was even
  sent: the refresh keeps such a status, see :func:`almdesk.sources.keep_unsent`) finishes it on the
  next run; one that finds ``sent_status`` set reads the task first, so a PATCH that did land is not
  sent again (no second note).
* **references** — each linked item is recorded once as a task reference under the server's ALM
  connection for this project and system (``source_reference`` remembers it; a changed key or URL
  is PATCHed, never a second POST). A POST the server refuses as a duplicate (a reference recorded by
  a sync killed before it could remember it) adopts the server's reference. The task's
  ``artifact_proxy`` is set to the item's key, so a later refresh sees from the task list alone which
  tasks have references.
* **links from the server** — before the engine runs, tasks with an ``artifact_proxy`` and no local
  link for the connection have their references read; one under this connection's server ALM
  connection becomes the link, so it is used before any title look-up.

A dry run writes nothing and returns the write-backs as planned rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from almdesk.errors import AuthError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.models import Link, SourceReference, SourceTask, Store, Task
from almdesk.systems.sdelements.client import SdeClient
from almdesk.systems.sdelements.source import status_for, statuses

STATUS_NAMES = {"TODO": "Incomplete", "DONE": "Complete", "NA": "Not Applicable"}


@dataclass
class Target:
    """One write-back: the bound project, the almdesk connection and the server's ALM connection."""

    project_id: int
    server_project: int
    connection_id: int
    system: str  # the ALM system's name (github, jira, …)
    label: str  # its label (Jira, GitHub, …)
    server_connection: int | None = None


def server_connection(client: SdeClient, target: Target, ctx: JobContext) -> int | None:
    """The server's ALM connection of ``target``'s project for its system (the lowest id if several)."""
    found: list[dict[str, Any]] = []
    for page in client.pages("connections/alm/", what="reading the project's ALM connections",
                             params={"project": target.server_project}):
        found += [c for c in page if isinstance(c, dict) and (c.get("system") or {}).get("id") == target.system]
    if not found:
        ctx.log(f"SD Elements project {target.server_project} has no ALM connection for {target.label}: task "
                "references are not recorded (statuses still are). Add one on the server to record them.", "warning")
        return None
    chosen = min(found, key=lambda c: int(c["id"]))
    if len(found) > 1:
        ctx.log(f"{len(found)} {target.label} ALM connections on SD Elements project {target.server_project}; "
                f"references go under {chosen.get('alias')!r} (id {chosen['id']}).", "warning")
    return int(chosen["id"])


def import_references(store: Store, client: SdeClient, target: Target, ctx: JobContext) -> int:
    """Links from the server's references for tasks that show an artifact proxy and have no link here."""
    if target.server_connection is None:
        return 0
    with store.session() as s:
        linked = set(s.scalars(select(Link.task_pk).where(Link.connection_id == target.connection_id)))
        rows = s.execute(select(Task.id, SourceTask.server_id).join(SourceTask, SourceTask.task_pk == Task.id)
                         .where(Task.project_id == target.project_id, SourceTask.artifact_proxy != "")).all()
    made = 0
    for pk, server_id in rows:
        if pk in linked:
            continue
        ref = _server_reference(client, target, server_id, None)
        if ref is None:
            continue
        with store.session() as s:
            s.add(Link(connection_id=target.connection_id, task_pk=pk, alm_ref=ref["reference"],
                       alm_key=ref.get("name") or ref["reference"], url=ref.get("link") or ""))
            s.add(_remembered(pk, target, ref))
        made += 1
    if made:
        ctx.log(f"{made} link(s) taken from SD Elements task references.")
    return made


def _server_reference(client: SdeClient, target: Target, server_id: str, reference: str | None
                      ) -> dict[str, Any] | None:
    path = f"projects/{target.server_project}/tasks/{server_id}/references/"
    for page in client.pages(path, what=f"reading the references of task {server_id}"):
        for ref in page:
            if isinstance(ref, dict) and ref.get("alm_connection") == target.server_connection and (
                    reference is None or str(ref.get("reference")) == reference):
                return ref
    return None


def _remembered(pk: int, target: Target, ref: dict[str, Any]) -> SourceReference:
    assert target.server_connection is not None
    return SourceReference(task_pk=pk, connection_id=target.connection_id, server_connection=target.server_connection,
                           server_ref_id=int(ref["id"]), reference=str(ref["reference"]),
                           name=str(ref.get("name") or ""), link=str(ref.get("link") or ""))


@dataclass
class _Pending:
    pk: int
    task_id: str
    title: str
    server_id: str
    status: str  # the local status (meaning) to write
    sent: str | None
    proxy: str
    key: str  # the linked item's key, url and status (empty without a link)
    url: str
    alm_status: str


def _pending_statuses(store: Store, target: Target) -> list[_Pending]:
    with store.session() as s:
        rows = s.execute(
            select(Task.id, Task.task_id, Task.title, SourceTask.server_id, Task.status, SourceTask.sent_status,
                   SourceTask.artifact_proxy, Link.alm_key, Link.url, Link.alm_status)
            .join(SourceTask, SourceTask.task_pk == Task.id)
            .outerjoin(Link, (Link.task_pk == Task.id) & (Link.connection_id == target.connection_id))
            .where(Task.project_id == target.project_id, Task.status != SourceTask.server_status)).all()
    return [_Pending(*(r[:6]), r[6] or "", r[7] or "", r[8] or "", r[9] or "") for r in rows]


RefRow = tuple[int, str, str, str, str, str, str, SourceReference | None]


def _pending_references(store: Store, target: Target) -> list[RefRow]:
    """(pk, task_id, server_id, proxy, ref, key, url, remembered) for links whose reference is missing/stale."""
    with store.session() as s:
        rows = s.execute(
            select(Task.id, Task.task_id, SourceTask.server_id, SourceTask.artifact_proxy, Link.alm_ref, Link.alm_key,
                   Link.url, SourceReference)
            .join(SourceTask, SourceTask.task_pk == Task.id)
            .join(Link, (Link.task_pk == Task.id) & (Link.connection_id == target.connection_id))
            .outerjoin(SourceReference, (SourceReference.task_pk == Task.id)
                       & (SourceReference.connection_id == target.connection_id))
            .where(Task.project_id == target.project_id)).all()
        s.expunge_all()
    out: list[RefRow] = []
    for pk, tid, sid, proxy, ref, key, url, remembered in rows:
        fresh = remembered is not None and (remembered.reference, remembered.name, remembered.link) == (
            ref, key or "", url or "")
        if not fresh or not proxy:
            out.append((pk, tid, sid, proxy or "", ref, key or ref, url or "", remembered))
    return out


def plan(store: Store, target: Target, engine_plan: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The write-backs a sync would make, as rows for the dry run's plan: those already due, and those
    the engine's planned rows (``update-local``, ``create``, ``link``) would cause."""
    rows: list[dict[str, Any]] = []
    due = _pending_statuses(store, target)
    for p in due:
        rows.append({"task_id": p.task_id, "action": "sde-status", "alm_key": p.key,
                     "reason": f"SD Elements task {p.server_id} → {p.status} (the ALM's status won)"})
    refs = _pending_references(store, target) if target.server_connection is not None else []
    for _pk, tid, sid, _proxy, ref, key, _url, remembered in refs:
        verb = "record" if remembered is None else "update"
        rows.append({"task_id": tid, "action": "sde-reference", "alm_key": key,
                     "reason": f"{verb} task reference {ref} on SD Elements task {sid}"})
    seen = {(r["task_id"], r["action"]) for r in rows}
    for entry in engine_plan:
        tid, action = entry.get("task_id", ""), entry.get("action")
        if action == "update-local" and (tid, "sde-status") not in seen:
            new = "DONE" if entry.get("task_status") == "TODO" else "TODO"
            rows.append({"task_id": tid, "action": "sde-status", "alm_key": entry.get("alm_key", ""),
                         "reason": f"SD Elements task → {new}, noting {entry.get('alm_key')} (the ALM's status wins)"})
        elif action in ("create", "link") and target.server_connection is not None and (tid, "sde-reference") not in seen:
            what = "the new item" if action == "create" else entry.get("alm_key", "the found item")
            rows.append({"task_id": tid, "action": "sde-reference", "alm_key": entry.get("alm_key", ""),
                         "reason": f"record {what} as a task reference on SD Elements"})
    return rows


def write_back(store: Store, client: SdeClient, target: Target, ctx: JobContext) -> dict[str, int]:
    """Write statuses and references back; per-task failures are events, a refused permission stops."""
    counts = {"statuses": 0, "references": 0, "failed": 0}
    pending = _pending_statuses(store, target)
    known = statuses(client) if pending else []
    for p in pending:
        ctx.check_cancelled()
        try:
            _write_status(store, client, target, p, known, ctx)
            counts["statuses"] += 1
        except UserFacingError as exc:
            counts["failed"] += 1
            ctx.event(f"{p.task_id} {p.title}"[:300], "sde-status", "failed", str(exc))
            if isinstance(exc, AuthError):  # a refused token or permission refuses every task alike
                return counts
    if target.server_connection is None:
        return counts
    for pk, tid, sid, proxy, ref, key, url, remembered in _pending_references(store, target):
        ctx.check_cancelled()
        try:
            _write_reference(store, client, target, pk, sid, proxy, ref, key, url, remembered)
            counts["references"] += 1
            ctx.event(tid, "sde-reference", "ok", f"task reference {key} recorded on SD Elements task {sid}", url)
        except UserFacingError as exc:
            counts["failed"] += 1
            ctx.event(tid, "sde-reference", "failed", str(exc))
            if isinstance(exc, AuthError):
                return counts
    return counts


def _task_path(target: Target, server_id: str) -> str:
    return f"projects/{target.server_project}/tasks/{server_id}/"


def _write_status(store: Store, client: SdeClient, target: Target, p: _Pending, known: list[dict[str, Any]],
                  ctx: JobContext) -> None:
    status_id = status_for(p.status, known)
    name = next((str(s.get("name")) for s in known if s.get("id") == status_id), STATUS_NAMES.get(p.status, p.status))
    if p.sent == p.status:  # sent by an interrupted sync: did it land?
        current = client.get(_task_path(target, p.server_id), what=f"reading task {p.server_id}")
        meanings = {str(s["id"]): str(s.get("meaning")) for s in known}
        if meanings.get(str(current.get("status"))) == p.status:
            _record_status(store, p, status_id)
            ctx.event(f"{p.task_id} {p.title}"[:300], "sde-status", "ok",
                      f"SD Elements task {p.server_id} already {name} (written by the interrupted sync)")
            return
    with store.session() as s:
        row = s.scalar(select(SourceTask).where(SourceTask.task_pk == p.pk))
        assert row is not None
        row.sent_status, row.sent_at = p.status, datetime.now(UTC)
    item = f"{target.label} {p.key}" if p.key else target.label
    state = f" is {p.alm_status}" if p.alm_status else ""
    note = (f"Status changed to {name} via {item}{state}" + (f" ({p.url})" if p.url else "")
            + ": the ALM's status won the conflict (almdesk).")
    body: dict[str, Any] = {"status": status_id, "status_note": note}
    if p.key and not p.proxy:
        body["artifact_proxy"] = p.key
    client.call("PATCH", _task_path(target, p.server_id), what=f"writing the status of task {p.server_id}", body=body,
                ok=(200,), permission="mark_task")
    _record_status(store, p, status_id, proxy=body.get("artifact_proxy"))
    ctx.event(f"{p.task_id} {p.title}"[:300], "sde-status", "ok", f"SD Elements task {p.server_id} → {name}: {note}",
              p.url)


def _record_status(store: Store, p: _Pending, status_id: str, proxy: str | None = None) -> None:
    with store.session() as s:
        row = s.scalar(select(SourceTask).where(SourceTask.task_pk == p.pk))
        assert row is not None
        row.server_status, row.sent_status, row.sent_at = p.status, None, None
        if proxy:
            row.artifact_proxy = proxy


def _write_reference(store: Store, client: SdeClient, target: Target, pk: int, server_id: str, proxy: str, ref: str,
                     key: str, url: str, remembered: SourceReference | None) -> None:
    path = _task_path(target, server_id) + "references/"
    body = {"reference": ref, "name": key, "link": url}
    what = f"recording the reference of task {server_id}"
    if remembered is None:
        response = client.request("POST", path, what=what, body={"alm_connection": target.server_connection, **body})
        if response.status_code == 201:
            made = client.json(response, what)
        elif response.status_code == 400 and "unique" in response.text:  # recorded by an interrupted sync
            made = _server_reference(client, target, server_id, ref)
            if made is None:
                raise RemoteError(f"SD Elements says task {server_id} has reference {ref} but does not list it.",
                                  "Try the sync again; if it persists, check the task's references on the server.")
        else:
            raise client.error_for(response, what, permission="sync_with_alm")
        with store.session() as s:
            s.add(_remembered(pk, target, made))
    elif (remembered.reference, remembered.name, remembered.link) != (ref, key, url):
        made = client.call("PATCH", f"{path}{remembered.server_ref_id}/", what=what, body=body, ok=(200,),
                           permission="sync_with_alm")
        with store.session() as s:
            row = s.get(SourceReference, remembered.id)
            assert row is not None
            row.reference, row.name, row.link = str(made["reference"]), str(made.get("name") or ""), str(
                made.get("link") or "")
    if not proxy:
        client.call("PATCH", _task_path(target, server_id), what=f"marking task {server_id} as synced",
                    body={"artifact_proxy": key}, ok=(200,), permission="mark_task")
        with store.session() as s:
            row2 = s.scalar(select(SourceTask).where(SourceTask.task_pk == pk))
            assert row2 is not None
            row2.artifact_proxy = key


def report_job(client: SdeClient, target: Target, succeeded: bool, message: str, ctx: JobContext) -> None:
    """Post the sync's result into the server's ALM job history (best effort)."""
    if target.server_connection is None:
        return
    try:
        client.call("POST", "jobs/alm/", what="reporting the sync to SD Elements",
                    body={"connection": target.server_connection, "succeeded": succeeded,
                          "result_message": message[:1000]}, ok=(201, 200))
    except UserFacingError as exc:
        ctx.log(f"The sync's result could not be reported to SD Elements: {exc}", "warning")
