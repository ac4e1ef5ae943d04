"""Create Defect and the release Gate for Rally.

Create Defect makes a ``Defect`` in the connection's project (release, severity and state
resolved by name, with the valid names listed when one is wrong) and returns its FormattedID and
browser URL. The Gate counts defects with one query read at ``pagesize=1`` (``TotalResultCount``)
over the project and its child projects: release by name (Rally's release trains share names
across projects), states (the "phases"), severities and tags.
"""

from __future__ import annotations

from dataclasses import dataclass

from almdesk.base.records import CreatedItem, DefectRequest, GateItem, GateRequest, GateResult
from almdesk.base.records import normalize_operator as _normalize
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.rally.client import RallyClient, oid_of
from almdesk.systems.rally.fields import CARD_TYPES, required_text
from almdesk.systems.rally.query import all_of, clause, one_of
from almdesk.systems.rally.resolve import Named, Resolver, near_miss
from almdesk.systems.rally.writes import browser_url, description_html, item_name

DEFECT = CARD_TYPES["Defect"]
GATE_FETCH = "ObjectID,FormattedID,Name,State,Severity,Project"


@dataclass(frozen=True)
class Target:
    workspace: Named
    project: Named | None


def resolve_target(client: RallyClient, connection: ConnectionSettings, workspace_override: str,
                   need_project: bool) -> Target:
    resolver = Resolver(client)
    params = connection.params
    ws_name = workspace_override.strip() or required_text(params, "rally_workspace", "Workspace",
                                                          "Enter the Rally workspace name.")
    workspace = resolver.workspace(ws_name)
    project_name = str(params.get("alm_project") or "").strip()
    if not project_name:
        if not need_project:
            return Target(workspace, None)
        default = resolver.default_project(workspace)
        if default is None:
            raise ConfigError(f"No Rally project is set, and this user has no default project in workspace "
                              f"{workspace.name!r}, so there is nowhere to create the defect.",
                              "Use a connection with a Project, or set a default project in your Rally profile.",
                              field="alm_project")
        return Target(workspace, default)
    return Target(workspace, resolver.project(workspace, project_name))


def _check_values(resolver: Resolver, workspace: Named, attribute: str, wanted: list[str], field: str,
                  label: str) -> None:
    if not wanted:
        return
    allowed = resolver.allowed_values(workspace, "Defect", attribute)
    bad = [w for w in wanted if allowed and w not in allowed]
    if bad:
        raise ConfigError(f"{label} {', '.join(map(repr, bad))} is not a Rally Defect {attribute}."
                          f"{near_miss(bad[0], allowed)}", f"Use one of: {', '.join(allowed)}.", field=field)


def create_defect(connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                  ctx: JobContext) -> CreatedItem:
    name = item_name(request.name or "")
    if not name:
        raise ConfigError("The defect needs a name.", "Enter a name for the defect.", field="name")
    client = RallyClient(connection.connector, http)
    try:
        ctx.progress(0, 4, "Resolving workspace and project")
        target = resolve_target(client, connection, request.workspace, need_project=True)
        assert target.project is not None
        resolver = Resolver(client)
        fields: dict[str, object] = {"Name": name, "Project": target.project.ref}
        if request.description.strip():
            fields["Description"] = description_html(request.description)
        ctx.check_cancelled()
        ctx.progress(1, 4, "Checking release, severity and state")
        if request.release.strip():
            release = request.release.strip()
            resolver.releases(target.workspace, target.project, release)
            hits, _ = client.query("release", query=clause("Name", "=", release), workspace=target.workspace.ref,
                                   project=target.project.ref, scope_down=False, fetch="Name", pagesize=1,
                                   what=f"the release {release!r}")
            if not hits:
                raise ConfigError(f"Release {release!r} belongs to a child project, not to {target.project.name!r}.",
                                  "Use a release of the connection's project.", field="release")
            fields["Release"] = str(hits[0]["_ref"])
        if request.severity.strip():
            _check_values(resolver, target.workspace, "Severity", [request.severity.strip()], "severity", "Severity")
            fields["Severity"] = request.severity.strip()
        if request.phase.strip():
            _check_values(resolver, target.workspace, "State", [request.phase.strip()], "phase", "State")
            fields["State"] = request.phase.strip()
        ctx.check_cancelled()
        ctx.progress(2, 4, "Creating the defect")
        obj = client.create("Defect", fields, fetch="ObjectID,FormattedID,Name", workspace=target.workspace.ref,
                            what=f"creating the defect {name!r}")
        oid = str(obj.get("ObjectID") or oid_of(str(obj.get("_ref"))))
        key = str(obj.get("FormattedID") or oid)
        url = browser_url(client.server, DEFECT, target.project.oid, oid)
        ctx.progress(4, 4, f"Created {key}")
        ctx.event(key, "create", "ok", f"Created defect {key} in {target.project.name}", url)
        ctx.log(f"Created Rally defect {key} ({url})")
        return CreatedItem(id=oid, key=key, url=url, title=str(obj.get("Name") or name))
    finally:
        client.close()


def gate_query(request: GateRequest) -> str | None:
    return all_of(clause("Release.Name", "=", request.release.strip()) if request.release.strip() else None,
                  one_of("State", [p.strip() for p in request.phases if p.strip()]),
                  one_of("Severity", [s.strip() for s in request.severities if s.strip()]),
                  *(clause("Tags.Name", "=", t.strip()) for t in request.labels if t.strip()))


def gate(connection: ConnectionSettings, request: GateRequest, http: HttpFactory, ctx: JobContext) -> GateResult:
    operator = _normalize(request.operator)
    before = http.requests
    client = RallyClient(connection.connector, http)
    try:
        ctx.progress(0, 3, "Resolving workspace and project")
        target = resolve_target(client, connection, request.workspace, need_project=False)
        resolver = Resolver(client)
        ctx.check_cancelled()
        ctx.progress(1, 3, "Checking release, states and severities")
        if request.release.strip():
            resolver.releases(target.workspace, target.project, request.release.strip())
        _check_values(resolver, target.workspace, "State", [p for p in request.phases if p.strip()], "phase",
                      "State")
        _check_values(resolver, target.workspace, "Severity", [s for s in request.severities if s.strip()],
                      "severity", "Severity")
        query = gate_query(request)
        ctx.check_cancelled()
        ctx.progress(2, 3, "Counting defects")
        ws_ref, project_ref = target.workspace.ref, target.project.ref if target.project else None
        count = client.count("defect", query=query, workspace=ws_ref, project=project_ref,
                             what="the gate's defect count")
        where = f"project {target.project.name} and its child projects" if target.project else \
            f"workspace {target.workspace.name}"
        described = f"Rally defects in {where}" + (f" where {query}" if query else "")
        ctx.progress(3, 3, f"{count} matching defect(s)")
        ctx.log(f"Gate counted {count} defect(s): {described}")
        requests_used = http.requests - before
    finally:
        client.close()

    def items(offset: int, limit: int) -> list[GateItem]:
        page_client = RallyClient(connection.connector, http)
        try:
            results, _ = page_client.query("defect", query=query, fetch=GATE_FETCH, order="FormattedID",
                                           start=offset + 1, pagesize=max(1, limit), what="the gate's defects",
                                           workspace=ws_ref, project=project_ref)
        finally:
            page_client.close()
        out = []
        for r in results:
            project_oid = oid_of(str((r.get("Project") or {}).get("_ref") or "")) if r.get("Project") else ""
            oid = str(r.get("ObjectID") or oid_of(str(r.get("_ref"))))
            out.append(GateItem(id=oid, key=str(r.get("FormattedID")), title=str(r.get("Name")),
                                url=browser_url(page_client.server, DEFECT, project_oid, oid),
                                status=str(r.get("State") or "")))
        return out

    return GateResult(count=count, threshold=request.threshold, operator=operator, query=described,
                      requests=requests_used, items=items)
