"""The XL Release plugin's two tasks for ALM Octane: Create Defect and the release Gate.

Create Defect makes a **draft** defect under the backlog root, with the release, an item origin
where the list has one that fits, and optional severity/phase. The Gate resolves the release,
phases and severities by name, counts matching defects with one ``limit=1`` request, and lists
them on demand, page by page.
"""

from __future__ import annotations

import html
from typing import Any

from almdesk.base.records import (
    CreatedItem,
    DefectRequest,
    GateItem,
    GateRequest,
    GateResult,
    normalize_operator,
)
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.octane import query as q
from almdesk.systems.octane import resolve
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import Site, connection_workspace, site


def _client(info: Site, http: HttpFactory, ctx: JobContext | None) -> OctaneClient:
    return OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http, ctx)


def html_text(text: str) -> str:
    """Plain text as the HTML Octane stores in memo fields."""
    if not text.strip():
        return ""
    paragraphs = [html.escape(p).replace("\n", "<br>") for p in text.strip().split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def create_defect(connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                  ctx: JobContext) -> CreatedItem:
    info = site(connection.connector)
    workspace = connection_workspace(connection, request.workspace)
    name = request.name.strip()
    if not name:
        raise ConfigError("Defect name is required.", "Enter a name for the defect.", field="name")
    client = _client(info, http, ctx)
    try:
        ctx.progress(0, 3, "Signing in to ALM Octane")
        client.sign_in()
        ctx.progress(1, 3, "Resolving backlog root, release and origin")
        root = resolve.backlog_root(client, workspace)
        entity: dict[str, Any] = {"name": name, "parent": {"type": "work_item", "id": root}}
        if request.description.strip():
            entity["description"] = html_text(request.description)
        if request.release.strip():
            release = resolve.release(client, workspace, request.release)
            entity["release"] = {"type": "release", "id": release["id"]}
        origin = resolve.origin(client, workspace)
        if origin is not None:
            entity["item_origin"] = {"type": "list_node", "id": origin["id"]}
        else:
            ctx.log(f"Workspace {workspace} has no item origin that fits almdesk; origin left empty.")
        if request.severity.strip():
            node = resolve.match([request.severity], resolve.severities(client, workspace), "severity", "severity",
                                 resolve.SEVERITY_ALIASES)[0]
            entity["severity"] = {"type": "list_node", "id": node["id"]}
        if request.phase.strip():
            phase = resolve.match([request.phase], resolve.phases(client, workspace, "defect"), "defect phase",
                                  "phase")[0]
            entity["phase"] = {"type": "phase", "id": phase["id"]}
        if info.user:
            user = resolve.workspace_user(client, workspace, info.user)
            if user is not None:
                entity["detected_by"] = {"type": "workspace_user", "id": user["id"]}
            else:
                ctx.log(f"User {info.user!r} is not in workspace {workspace}; 'Detected by' left empty.", "warning")
        ctx.progress(2, 3, "Creating the draft defect")
        result = client.create(workspace, "defects", [entity], fields=("name", "is_draft"))[0]
        if isinstance(result, Exception):
            raise result
        ident = str(result["id"])
        url = client.entity_url(workspace, ident)
        ctx.log(f"Draft defect {ident} created in workspace {workspace}: {url}")
        ctx.progress(3, 3, f"Created defect {ident}")
        return CreatedItem(id=ident, key=ident, url=url, title=name)
    finally:
        client.close()


def _gate_query(client: OctaneClient, workspace: str, request: GateRequest) -> tuple[str, str]:
    release = resolve.release(client, workspace, request.release)
    clauses = [q.ref_id("release", str(release["id"]))]
    described = [f"defects in release {release['name']!r}"]
    if request.phases:
        chosen = resolve.match(request.phases, resolve.phases(client, workspace, "defect"), "defect phase", "phases")
        clauses.append(q.any_of(q.ref_id("phase", str(p["id"])) for p in chosen))
        described.append("phase " + " or ".join(str(p["name"]) for p in chosen))
    if request.severities:
        chosen = resolve.match(request.severities, resolve.severities(client, workspace), "severity", "severities",
                               resolve.SEVERITY_ALIASES)
        clauses.append(q.any_of(q.ref_id("severity", str(s["id"])) for s in chosen))
        described.append("severity " + " or ".join(str(s["name"]) for s in chosen))
    return q.all_of(clauses), ", ".join(described)


def gate(connection: ConnectionSettings, request: GateRequest, http: HttpFactory, ctx: JobContext) -> GateResult:
    operator = normalize_operator(request.operator)
    if request.threshold < 0:
        raise ConfigError(f"Threshold is {request.threshold}.", "Enter 0 or a positive number.", field="threshold")
    info = site(connection.connector)
    workspace = connection_workspace(connection, request.workspace)
    start = http.requests
    client = _client(info, http, ctx)
    try:
        ctx.progress(0, 3, "Signing in to ALM Octane")
        client.sign_in()
        ctx.progress(1, 3, "Resolving release, phases and severities")
        statement, described = _gate_query(client, workspace, request)
        ctx.progress(2, 3, "Counting matching defects")
        count = client.count(workspace, "defects", statement)
        ctx.log(f"Counted {count} defect(s) with one request: query=\"{statement}\"")
    finally:
        client.close()
    requests_used = http.requests - start

    def items(offset: int, limit: int) -> list[GateItem]:
        pager = _client(info, http, None)
        try:
            page, _ = pager.get_page(workspace, "defects", query=statement, fields=("name", "phase", "severity"),
                                     limit=max(1, min(limit, 1000)), offset=offset, order_by="id")
        finally:
            pager.close()
        return [GateItem(id=str(d["id"]), key=str(d["id"]), title=str(d.get("name", "")),
                         url=pager.entity_url(workspace, str(d["id"])),
                         status=str((d.get("phase") or {}).get("name", ""))) for d in page]

    result = GateResult(count=count, threshold=request.threshold, operator=operator, query=described,
                        requests=requests_used, items=items)
    ctx.progress(3, 3, result.message)
    return result
