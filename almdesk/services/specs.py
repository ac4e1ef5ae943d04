"""Job specs the GUI submits that the CLI does not share: the support bundle, the SD Elements project
hierarchy, a connector's workspaces and one page of a gate's matching items.

Widgets only draw: they call these and hand the spec to the runner. Each builder reads the settings
now (a clear ConfigError for an unknown name) and returns a :class:`JobSpec` whose ``run`` does the
network or file work in the worker; the outcome's ``data`` and typed ``payload`` are what the views read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from almdesk.base.records import GateRequest
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.services.choices import ChoiceList
from almdesk.systems.base import Capability

if TYPE_CHECKING:
    from almdesk.services.wiring import Services


@dataclass(frozen=True)
class SourceTree:
    """An SD Elements server's hierarchy as read (the payload of :func:`hierarchy_spec`): its business units,
    applications (``business_unit``: the unit's id) and projects (``application``: the application's id)."""

    units: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    projects: list[dict[str, Any]]


def bundle_spec(services: Services, *, job_id: int | None = None, connection: int | None = None) -> JobSpec:
    """A job writing a support bundle for job ``job_id`` or connection ``connection`` (data ``path``)."""
    from almdesk.bundle import support_bundle

    what = f"job {job_id}" if job_id is not None else f"connection {services.config.connection(connection or 0).alias}"

    def run(_ctx: JobContext) -> JobOutcome:
        path = support_bundle(services, connection=connection, job_id=job_id, out_dir=services.paths.bundles)
        return JobOutcome(True, f"Support bundle written to {path}", data={"path": str(path)})

    return JobSpec("bundle", f"Support bundle for {what}", run)


def hierarchy_spec(services: Services, connector: str) -> JobSpec:
    """A job listing an SD Elements connector's business units, applications and projects (payload: a
    :class:`SourceTree`; data ``tree``, for ``--json``)."""
    from almdesk.systems.sdelements import source
    from almdesk.systems.sdelements.client import SdeClient

    settings = services.config.connector_settings(connector)
    http = services.http_for(settings)
    cid = services.config.connector(connector).id

    def run(ctx: JobContext) -> JobOutcome:
        client = SdeClient(settings, http, log=ctx.log, sleep=ctx.sleep)
        try:
            ctx.progress(0, 3, "Reading business units")
            units = source.business_units(client)
            ctx.progress(1, 3, "Reading applications")
            apps = source.applications(client)
            ctx.progress(2, 3, "Reading projects")
            projects = source.projects(client)
        finally:
            client.close()
        tree = {"units": units, "applications": apps, "projects": projects}
        return JobOutcome(True, f"{len(units)} business unit(s), {len(apps)} application(s), "
                          f"{len(projects)} project(s) on {connector}.", data={"tree": tree},
                          payload=SourceTree(units, apps, projects))

    return JobSpec("list-projects", f"List SD Elements projects on {connector}", run, cid)


def workspaces_spec(services: Services, connector_id: int) -> JobSpec:
    """A job listing a stored connector's workspaces (payload: a ``workspace`` :class:`ChoiceList`)."""
    settings = services.config.connector_settings(connector_id)
    system = services.registry.get(settings.system)
    http = services.http_for(settings, job_hint="workspaces")

    def run(ctx: JobContext) -> JobOutcome:
        if Capability.WORKSPACES not in system.capabilities:
            return JobOutcome(False, f"{system.label} has no workspaces to pick from.")
        http.add_secrets(settings.secrets.values())
        ctx.progress(0, 1, "Listing workspaces")
        found = [(str(i), str(n)) for i, n in system.workspaces(settings, http)]
        ctx.progress(1, 1, "done")
        return JobOutcome(True, f"{len(found)} workspace(s) found.",
                          data={"workspaces": [list(pair) for pair in found]},
                          payload=ChoiceList("workspace", found))

    return JobSpec("workspaces", f"List workspaces of {settings.name}", run, connector_id)


def gate_items_spec(services: Services, request: GateRequest, connection: int | None, connector: int | None, *,
                    offset: int, limit: int) -> JobSpec:
    """A job that runs the gate's query again and reads one page of its matching items (payload: the items)."""
    target = services._target(connection, connector)
    system = services.registry.get(target.connector.system)
    http = services.http_for(target.connector, trace=target.debug, job_hint="gate")

    def run(ctx: JobContext) -> JobOutcome:
        http.add_secrets(target.connector.secrets.values())
        result = system.gate(target, request, http, ctx)
        items = result.items(offset, limit) if result.items is not None else []
        return JobOutcome(True, f"Read {len(items)} matching item(s) from #{offset + 1}.",
                          data={"items": [asdict(i) for i in items]}, payload=items)

    connector_id = services.config.connector(target.connector.name).id
    return JobSpec("gate-items", f"Gate items {offset + 1}–{offset + limit} on {target.alias}", run, connector_id,
                   target.id)
