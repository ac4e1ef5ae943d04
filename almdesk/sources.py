"""Projects bound to a server project (SD Elements, the task source): the binding and the refresh.

A bound project keeps its tasks in almdesk's store like a file-based one, but they come from the
server: :func:`refresh_job` pulls them (status by meaning, phase by slug, priority int or string,
accepted only unless the binding says otherwise) and records when, and what changed. A sync of a
bound project refreshes it first. Tasks the server no longer lists are kept (with their links), as
sdetools left orphans for manual removal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.models import Project, SourceTask, Store, Task
from almdesk.models.tables import Connector
from almdesk.net.session import HttpFactory
from almdesk.systems.registry import Registry, is_alm_target


@dataclass(frozen=True)
class ProjectSource:
    """Where a bound project's tasks come from."""

    project_id: int
    project: str
    connector: str
    server_project: int
    include_unaccepted: bool = False
    last_refresh: datetime | None = None
    counts: dict[str, Any] | None = None


def source_of(store: Store, project: str | int) -> ProjectSource | None:
    """The binding of ``project`` (name or id), or None for a file-based project."""
    with store.session() as s:
        row = s.get(Project, project) if isinstance(project, int) else s.scalar(
            select(Project).where(Project.name == project))
        if row is None or row.source_connector_id is None or row.source_project is None:
            return None
        connector = s.get(Connector, row.source_connector_id)
        assert connector is not None
        return ProjectSource(row.id, row.name, connector.name, row.source_project, row.include_unaccepted,
                             row.last_refresh, dict(row.refresh_counts or {}))


def check_source(store: Store, registry: Registry, connector: str, server_project: int) -> None:
    """Raise ConfigError unless ``connector`` is a task-source connector and ``server_project`` an id."""
    if server_project <= 0:
        raise ConfigError(f"SD Elements project id {server_project} is not valid.",
                          "Give the number from the project's address (…/projects/<id>/) or pick the project.",
                          field="sde_project")
    with store.session() as s:
        row = s.scalar(select(Connector).where(Connector.name == connector))
        if row is None:
            names = s.scalars(select(Connector.name).order_by(Connector.name)).all()
            raise ConfigError(f"No connector named {connector!r}.",
                              f"Known connectors: {', '.join(names)}." if names else "Add an SD Elements connector first.",
                              field="source")
        if row.system not in registry or is_alm_target(registry.get(row.system)):
            raise ConfigError(f"Connector {connector!r} ({row.system}) is not a task source.",
                              "Choose an SD Elements connector as the project's source.", field="source")


def bind_project(store: Store, registry: Registry, project_id: int, connector: str, server_project: int, *,
                 include_unaccepted: bool = False) -> None:
    """Bind local project ``project_id`` to ``server_project`` on task-source connector ``connector``."""
    check_source(store, registry, connector, server_project)
    with store.session() as s:
        row = s.scalar(select(Connector).where(Connector.name == connector))
        assert row is not None
        project = s.get(Project, project_id)
        if project is None:
            raise ConfigError(f"Project {project_id} does not exist.", "Choose an existing project.", field="project")
        project.source_connector_id = row.id
        project.source_project = server_project
        project.include_unaccepted = include_unaccepted


def refresh(store: Store, source: ProjectSource, connector: ConnectorSettings, http: HttpFactory,
            ctx: JobContext) -> dict[str, Any]:
    """Pull the bound project's tasks into the store; returns the counts (also stored on the project)."""
    from almdesk.sync.tasks_io import upsert_tasks
    from almdesk.systems.sdelements.client import SdeClient
    from almdesk.systems.sdelements.source import pull_tasks

    http.add_secrets(connector.secrets.values())
    client = SdeClient(connector, http, log=ctx.log, sleep=ctx.sleep)
    try:
        ctx.log(f"Reading the tasks of SD Elements project {source.server_project} ({connector.name}).")
        pulled = pull_tasks(client, source.server_project, include_unaccepted=source.include_unaccepted,
                            progress=lambda done, _total, text: ctx.progress(done, 0, text))
    finally:
        client.close()
    for reason in pulled.skipped:
        ctx.event(reason.partition(":")[0], "refresh", "skipped", reason)
    rows, kept = keep_unsent(store, source.project_id, pulled.rows)
    for task_id in kept:
        ctx.log(f"{task_id}: keeping the status the ALM settled until it is written back to SD Elements.")
    counts: dict[str, Any] = dict(upsert_tasks(store, source.project_id, rows)) if rows else {
        "created": 0, "updated": 0, "unchanged": 0, "total": 0}
    remember_server(store, source.project_id, pulled)
    counts.update({"skipped": len(pulled.skipped), "unaccepted": pulled.unaccepted, "requests": client.requests,
                   "server_project": str(pulled.project.get("name") or source.server_project),
                   "kept_unsent": len(kept)})
    with store.session() as s:
        row = s.get(Project, source.project_id)
        assert row is not None
        row.last_refresh = datetime.now(UTC)
        row.refresh_counts = counts
    return counts


def keep_unsent(store: Store, project_id: int, rows: list[Any]) -> tuple[list[Any], list[str]]:
    """``rows`` with the local status kept for tasks whose status the ALM settled and that is not yet
    on the server (local status ≠ the server's last known, while the server still has that one)."""
    from dataclasses import replace

    with store.session() as s:
        known = {tid: (status, server) for tid, status, server in s.execute(
            select(Task.task_id, Task.status, SourceTask.server_status)
            .join(SourceTask, SourceTask.task_pk == Task.id).where(Task.project_id == project_id))}
    out, kept = [], []
    for row in rows:
        local, server = known.get(row.task_id, (None, None))
        if local is not None and local != server and row.status == server:
            out.append(replace(row, status=local))
            kept.append(row.task_id)
        else:
            out.append(row)
    return out, kept


def remember_server(store: Store, project_id: int, pulled: Any) -> None:
    """Store each pulled task's server id, status (meaning) and artifact proxy (bulk statements)."""
    with store.session() as s:
        pks = dict(s.execute(select(Task.task_id, Task.id).where(Task.project_id == project_id)).all())
        have = {pk: sid for sid, pk in s.execute(select(SourceTask.id, SourceTask.task_pk)
                                                 .join(Task, Task.id == SourceTask.task_pk)
                                                 .where(Task.project_id == project_id))}
        new, changed = [], []
        for row in pulled.rows:
            pk = pks.get(row.task_id)
            if pk is None:
                continue
            values = {"server_id": pulled.server_ids.get(row.task_id, ""), "server_status": row.status,
                      "artifact_proxy": pulled.proxies.get(row.task_id, "")}
            if pk in have:
                changed.append({"id": have[pk], **values})
            else:
                new.append({"task_pk": pk, **values})
        if new:
            s.execute(insert(SourceTask), new)
        if changed:
            s.execute(update(SourceTask), changed)  # ORM bulk update by primary key


def refresh_message(source: ProjectSource, counts: dict[str, Any]) -> str:
    parts = [f"{counts.get('total', 0)} task(s) from SD Elements project {counts.get('server_project')!r}",
             f"{counts.get('created', 0)} new, {counts.get('updated', 0)} changed"]
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']} left out (see the events)")
    if counts.get("unaccepted"):
        parts.append(f"{counts['unaccepted']} unaccepted included")
    return f"Refreshed {source.project}: " + "; ".join(parts) + "."


def refresh_job(store: Store, source: ProjectSource, connector: ConnectorSettings, http: HttpFactory
                ) -> Callable[[JobContext], JobOutcome]:
    def run(ctx: JobContext) -> JobOutcome:
        counts = refresh(store, source, connector, http, ctx)
        numbers = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
        return JobOutcome(True, refresh_message(source, counts), numbers, {"refresh": counts})

    return run


def with_refresh(fn: Callable[[JobContext], JobOutcome], store: Store, source: ProjectSource,
                 connector: ConnectorSettings, http: HttpFactory, connection: ConnectionSettings, system: Any, *,
                 dry_run: bool = False) -> Callable[[JobContext], JobOutcome]:
    """The sync (or dry run) of a bound project: refresh its tasks, take links from the server's task
    references, run the sync, then write what it settled back (:mod:`almdesk.sync.writeback`) and
    report the job to the server. A failed refresh fails the sync: syncing stale tasks would write
    stale statuses back. A dry run lists the write-backs as planned rows."""
    from almdesk.sync import writeback
    from almdesk.systems.sdelements.client import SdeClient

    def run(ctx: JobContext) -> JobOutcome:
        ctx.progress(0, 0, f"Refreshing {source.project} from SD Elements")
        counts = refresh(store, source, connector, http, ctx)
        ctx.event(source.project, "refresh", "ok", refresh_message(source, counts))
        assert connection.id is not None
        target = writeback.Target(source.project_id, source.server_project, connection.id, system.name, system.label)
        client = SdeClient(connector, http, log=ctx.log, sleep=ctx.sleep)
        try:
            target.server_connection = writeback.server_connection(client, target, ctx)
            if not dry_run:
                writeback.import_references(store, client, target, ctx)
            outcome: JobOutcome = fn(ctx)
            outcome.data["refresh"] = counts
            if dry_run:
                planned = writeback.plan(store, target, list(outcome.data.get("plan", [])))
                for row in planned:
                    ctx.event(row["task_id"], row["action"], "planned", row["reason"])
                outcome.data.setdefault("plan", []).extend(planned)
                outcome.data["sde_requests"] = client.requests + counts["requests"]
                return outcome
            ctx.progress(0, 0, "Writing back to SD Elements")
            written = writeback.write_back(store, client, target, ctx)
            outcome.data["write_back"] = written
            for key, value in written.items():
                outcome.counts[f"sde_{key}"] = value
            if written["failed"]:
                outcome = JobOutcome(False, outcome.message + f" {written['failed']} SD Elements write-back(s) "
                                     "failed; see the job's events.", outcome.counts, outcome.data)
            else:
                outcome.message += (f" SD Elements: {written['statuses']} status(es) and {written['references']} "
                                    "reference(s) written back.")
            from almdesk.remote.items import mirror_of

            if mirror_of(store, connection_id=connection.id) is None:  # a mirrored one is reported queued, once
                writeback.report_job(client, target, outcome.succeeded, outcome.message, ctx)
            outcome.data["sde_requests"] = client.requests + counts["requests"]
            return outcome
        finally:
            client.close()

    return run
