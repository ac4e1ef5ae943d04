"""Projects bound to a server project (SD Elements, the task source): the binding and the refresh.

A bound project keeps its tasks in almdesk's store like a file-based one, but they come from the
server: :func:`refresh_job` pulls them (status by meaning, phase by slug, priority int or string,
accepted only unless the binding says otherwise) and records when, and what changed. A sync of a
bound project refreshes it first. Tasks the server no longer lists are kept (with their links), as
sdetools left orphans for manual removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.models import Project, Store
from almdesk.models.tables import Connector
from almdesk.net.session import HttpFactory
from almdesk.systems.base import ConnectorSettings
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
    counts: dict[str, Any] = dict(upsert_tasks(store, source.project_id, pulled.rows)) if pulled.rows else {
        "created": 0, "updated": 0, "unchanged": 0, "total": 0}
    counts.update({"skipped": len(pulled.skipped), "unaccepted": pulled.unaccepted, "requests": client.requests,
                   "server_project": str(pulled.project.get("name") or source.server_project)})
    with store.session() as s:
        row = s.get(Project, source.project_id)
        assert row is not None
        row.last_refresh = datetime.now(UTC)
        row.refresh_counts = counts
    return counts


def refresh_message(source: ProjectSource, counts: dict[str, Any]) -> str:
    parts = [f"{counts.get('total', 0)} task(s) from SD Elements project {counts.get('server_project')!r}",
             f"{counts.get('created', 0)} new, {counts.get('updated', 0)} changed"]
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']} left out (see the events)")
    if counts.get("unaccepted"):
        parts.append(f"{counts['unaccepted']} unaccepted included")
    return f"Refreshed {source.project}: " + "; ".join(parts) + "."


def refresh_job(store: Store, source: ProjectSource, connector: ConnectorSettings, http: HttpFactory
                ) -> Any:
    def run(ctx: JobContext) -> JobOutcome:
        counts = refresh(store, source, connector, http, ctx)
        numbers = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
        return JobOutcome(True, refresh_message(source, counts), numbers, {"refresh": counts})

    return run


def with_refresh(fn: Any, store: Store, source: ProjectSource, connector: ConnectorSettings,
                 http: HttpFactory) -> Any:
    """A sync job that first refreshes its bound project (a failed refresh fails the sync: syncing
    stale tasks would write stale statuses back)."""

    def run(ctx: JobContext) -> JobOutcome:
        ctx.progress(0, 0, f"Refreshing {source.project} from SD Elements")
        counts = refresh(store, source, connector, http, ctx)
        ctx.event(source.project, "refresh", "ok", refresh_message(source, counts))
        outcome: JobOutcome = fn(ctx)
        outcome.data["refresh"] = counts
        return outcome

    return run
