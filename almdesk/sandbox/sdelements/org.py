"""Who-am-I, server info, the business unit → application → project hierarchy, statuses, phases.

Filters as the API documents them: applications by ``business_unit`` (the filter's name on a real
server is UNCONFIRMED) and ``name``/``search``; projects by ``application``, ``name``, ``slug``,
``search``; task statuses by ``meaning``; phases by ``slug``. ``include=permissions`` on projects
lists what the caller's project role allows (a list of permission names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from almdesk.sandbox.sdelements.data import PHASES, ROLE_PERMISSIONS, STATUSES, clone
from almdesk.sandbox.sdelements.drf import listed, not_found, paginate

if TYPE_CHECKING:
    from almdesk.sandbox.sdelements.app import Call

Result = tuple[int, Any]


def page(call: Call, items: list[Any]) -> Result:
    envelope, chunk = paginate(call.request, items)
    return 200, {**envelope, "results": chunk}


def me(call: Call) -> Result:
    return 200, call.user.render()


def server_info(call: Call) -> Result:
    from almdesk.sandbox.sdelements.app import VERSION

    return 200, {"release": {"name": VERSION, "date": "2024-03-12"}, "domain": call.request.host,
                 "jobs_queue_length": 0, "sso_settings": {"sso_type": "none", "saml_login_url": None},
                 "plugins": [{"name": "sdetools", "version": "5.1.0"}]}


def _matches(name: str, request_args: Any) -> bool:
    exact = request_args.get("name")
    if exact is not None and name != exact:
        return False
    iexact = request_args.get("name__iexact")
    if iexact is not None and name.lower() != iexact.lower():
        return False
    search = request_args.get("search")
    return not (search and search.lower() not in name.lower())


def business_units(call: Call) -> Result:
    items = [clone(b) for b in call.store.business_units.values() if _matches(b["name"], call.request.args)]
    return page(call, items)


def business_unit(call: Call, bu: int) -> Result:
    found = call.store.business_units.get(bu)
    if found is None:
        raise not_found()
    return 200, clone(found)


def applications(call: Call) -> Result:
    args = call.request.args
    unit = args.get("business_unit")
    items = [clone(a) for a in call.store.applications.values()
             if _matches(a["name"], args) and (not unit or str(a["business_unit"]) == unit)]
    return page(call, items)


def application(call: Call, app_id: int) -> Result:
    found = call.store.applications.get(app_id)
    if found is None:
        raise not_found()
    return 200, clone(found)


def render_project(call: Call, project: dict[str, Any]) -> dict[str, Any]:
    store = call.store
    out = clone(project)
    app = store.applications[project["application"]]
    bu = store.business_units[app["business_unit"]]
    base = call.request.host_url.rstrip("/")
    out["url"] = f"{base}/bunits/{bu['slug']}/{app['slug']}/{project['slug']}/"
    if "permissions" in listed(call.request, "include"):
        out["permissions"] = list(ROLE_PERMISSIONS[call.user.role])
    if "task_counts" in listed(call.request, "include"):
        out["task_counts"] = {"total": sum(1 for t in store.tasks.get(project["id"], {}).values() if t["accepted"])}
    return out


def projects(call: Call) -> Result:
    args = call.request.args
    app_id = args.get("application")
    slug = args.get("slug")
    items = [render_project(call, p) for p in call.store.projects.values()
             if _matches(p["name"], args) and (not app_id or str(p["application"]) == app_id)
             and (not slug or p["slug"] == slug)]
    return page(call, items)


def project(call: Call, project: int) -> Result:
    found = call.store.projects.get(project)
    if found is None:
        raise not_found()
    return 200, render_project(call, found)


def statuses(call: Call) -> Result:
    meaning = call.request.args.get("meaning")
    return page(call, [clone(s) for s in STATUSES if not meaning or s["meaning"] == meaning])


def status(call: Call, status_id: str) -> Result:
    found = call.store.status(status_id)
    if found is None:
        raise not_found()
    return 200, clone(found)


def phase_out(phase: dict[str, Any]) -> dict[str, Any]:
    return {k: phase[k] for k in ("id", "name", "slug", "description", "tip")}


def phases(call: Call) -> Result:
    slug = call.request.args.get("slug")
    return page(call, [phase_out(p) for p in PHASES if not slug or p["slug"] == slug])


def phase(call: Call, phase: int) -> Result:
    found = next((p for p in PHASES if p["id"] == phase), None)
    if found is None:
        raise not_found()
    return 200, phase_out(found)

