"""Reading a server project's tasks as almdesk tasks, and the business unit → application → project
lists the pickers show.

A pull costs ``ceil(N / page) + 1`` requests: the task statuses once (to know every status's
*meaning*, custom ones too), then ``projects/{id}/tasks/?expand=status,phase&include=tags`` page by
page. Status is mapped by meaning (TODO/DONE/NA, never by id or name), phase by slug, priority from
an int or a string; only accepted tasks come unless ``include_unaccepted`` (one more listing with
``accepted=false``). A task almdesk cannot take (an unknown phase, a bad priority) is left out and
named in ``skipped``; the others still come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from almdesk.errors import ConfigError, RemoteError
from almdesk.sync.tasks_io import TaskRow, task_from_dict
from almdesk.systems.sdelements.client import SdeClient

Progress = Callable[[int, int, str], None]
MEANINGS = ("TODO", "DONE", "NA")
# the standard phases' display names (what ``phase`` is without ``expand=phase``) → slug
PHASE_NAMES = {"requirements": "requirements", "architecture and design": "architecture-design",
               "development": "development", "testing": "testing", "deployment": "deployment"}


@dataclass
class Pulled:
    """What one pull read: the tasks, the ones left out (and why), the server project."""

    rows: list[TaskRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unaccepted: int = 0  # unaccepted tasks taken (only with include_unaccepted)
    project: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # status id → meaning
    server_ids: dict[str, str] = field(default_factory=dict)  # task_id (T21) → server id (1-T21)
    proxies: dict[str, str] = field(default_factory=dict)  # task_id → artifact_proxy (a synced ALM item's key)


def project_not_found(project: int | str) -> ConfigError:
    return ConfigError(f"SD Elements has no project with id {project} that this token's user can see.",
                       "Pick the project again (business unit → application → project), or ask for access to it.",
                       field="sde_project")


def statuses(client: SdeClient) -> list[dict[str, Any]]:
    """Every task status (standard and custom) with its ``id``, ``name`` and ``meaning``."""
    out: list[dict[str, Any]] = []
    for page in client.pages("task-statuses/", what="reading the task statuses"):
        out.extend(s for s in page if isinstance(s, dict))
    return out


def status_for(meaning: str, known: list[dict[str, Any]]) -> str:
    """The id of the first status with ``meaning`` (the standard one comes first on a real server)."""
    found = next((str(s["id"]) for s in known if str(s.get("meaning")) == meaning), None)
    if found is None:
        raise RemoteError(f"SD Elements has no task status meaning {meaning}.",
                          "An SD Elements admin can check the task statuses (every server has one per meaning).")
    return found


def read_project(client: SdeClient, project: int, *, permissions: bool = False) -> dict[str, Any]:
    params = {"include": "permissions"} if permissions else None
    data = client.get(f"projects/{project}/", what=f"reading project {project}", params=params,
                      not_found=project_not_found(project))
    if not isinstance(data, dict):
        raise RemoteError(f"{client.server} sent something other than a project.", "Check the server URL.")
    return data


def pull_tasks(client: SdeClient, project: int, *, include_unaccepted: bool = False,
               progress: Progress | None = None) -> Pulled:
    """Read every (accepted) task of server project ``project`` as almdesk task rows."""
    out = Pulled(project=read_project(client, project))
    out.statuses = {str(s["id"]): str(s.get("meaning") or "") for s in statuses(client)}
    passes: list[dict[str, Any]] = [{}]
    if include_unaccepted:
        passes.append({"accepted": "false"})
    seen = 0
    for extra in passes:
        params = {"expand": "status,phase", "include": "tags", **extra}
        for page in client.pages(f"projects/{project}/tasks/", what=f"reading the tasks of project {project}",
                                 params=params, not_found=project_not_found(project)):
            for raw in page:
                row = _row(raw, out)
                if row is not None:
                    out.rows.append(row)
                    out.server_ids[row.task_id] = str(raw.get("id") or "")
                    out.proxies[row.task_id] = str(raw.get("artifact_proxy") or "")
                    if extra:
                        out.unaccepted += 1
            seen += len(page)
            if progress:
                progress(seen, 0, f"{seen} tasks read")
    return out


def read_task(client: SdeClient, project: int, server_id: str, known: dict[str, str]) -> TaskRow | None:
    """One task read on its own (its ``priority`` comes as a string there), mapped like a pulled one;
    None when almdesk cannot take it. ``known``: status id → meaning (the status comes as an id; the
    phase is expanded, because its display name is no slug)."""
    raw = client.get(f"projects/{project}/tasks/{server_id}/", what=f"reading task {server_id}",
                     params={"include": "tags", "expand": "phase"})
    return _row(raw, Pulled(statuses=dict(known)))


def map_task(raw: Any, known: dict[str, str]) -> TaskRow | None:
    """One server task (any shape: list or detail, expanded or not) as an almdesk task, or None when
    almdesk cannot take it. ``known``: status id → meaning."""
    return _row(raw, Pulled(statuses=dict(known)))


def _row(raw: Any, out: Pulled) -> TaskRow | None:
    if not isinstance(raw, dict):
        out.skipped.append(f"an entry that is not a task: {str(raw)[:60]!r}")
        return None
    task_id = str(raw.get("task_id") or str(raw.get("id") or "").partition("-")[2])
    status = raw.get("status")
    if isinstance(status, dict):
        meaning = str(status.get("meaning") or "")
    else:
        meaning = out.statuses.get(str(status), "")
    if meaning not in MEANINGS:
        out.skipped.append(f"{task_id}: status {status!r} has no known meaning")
        return None
    phase = raw.get("phase")
    slug = phase.get("slug") if isinstance(phase, dict) else PHASE_NAMES.get(str(phase or "").strip().lower(), phase)
    try:
        return task_from_dict({"task_id": task_id, "title": raw.get("title"), "text": raw.get("text") or "",
                               "phase": slug, "priority": raw.get("priority"), "status": meaning,
                               "verification": raw.get("verification_status") or "none",
                               "tags": list(raw.get("tags") or []), "updated": raw.get("updated")})
    except ConfigError as exc:
        out.skipped.append(f"{task_id}: {exc.message}")
        return None


# --- pickers ------------------------------------------------------------------------------------
def _all(client: SdeClient, path: str, what: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.pages(path, what=what, params=params):
        out.extend(x for x in page if isinstance(x, dict))
    return out


def business_units(client: SdeClient) -> list[dict[str, Any]]:
    return [{"id": b["id"], "name": b["name"]} for b in _all(client, "business-units/", "listing business units")]


def applications(client: SdeClient, business_unit: int | None = None) -> list[dict[str, Any]]:
    params = {"business_unit": business_unit} if business_unit is not None else None
    return [{"id": a["id"], "name": a["name"], "business_unit": a.get("business_unit")}
            for a in _all(client, "applications/", "listing applications", params)]


def projects(client: SdeClient, application: int | None = None, search: str = "") -> list[dict[str, Any]]:
    params: dict[str, Any] = {}
    if application is not None:
        params["application"] = application
    if search:
        params["search"] = search
    return [{"id": p["id"], "name": p["name"], "application": p.get("application")}
            for p in _all(client, "projects/", "listing projects", params)]


def hierarchy(client: SdeClient, project: dict[str, Any]) -> tuple[str, str]:
    """(business unit name, application name) of a server project."""
    app = client.get(f"applications/{project['application']}/", what="reading the project's application")
    unit = client.get(f"business-units/{app['business_unit']}/", what="reading the application's business unit")
    return str(unit["name"]), str(app["name"])
