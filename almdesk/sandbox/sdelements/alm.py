"""ALM jobs, connectors and connections, shaped as ``seeds/002_…`` (SD Elements' ALM API) shows them.

Connectors: ``system`` is an object ``{id, short_name, name}``; create/patch send only
``{"system": {"id": …}}``. A connection's ``params`` are the connector's params merged with the
connection's own, plus ``sde_businessunit``/``sde_application``/``sde_project`` and
``alm_reference_context``; they are shown only to users who may edit ALM connections (here: an
admin). ``include=last_job`` adds the connection's latest job. ``testalm`` answers
``{"success": true}`` for a well-formed body. Jobs: ``POST {connection, succeeded, result_message}``
records an externally run job; ``POST {connection, automatic, ready: false}`` queues one.
Lists carry the DRF envelope; the seed's examples show only their ``results``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from almdesk.sandbox.sdelements.data import SYSTEMS, clone, iso
from almdesk.sandbox.sdelements.drf import (
    body_of,
    field_errors,
    flag,
    forbidden,
    listed,
    not_found,
    paginate,
    required,
)

if TYPE_CHECKING:
    from almdesk.sandbox.sdelements.app import Call

Result = tuple[int, Any]
FREQUENCIES = ("hourly", "daily", "weekly", "monthly", "manually")


def _admin(call: Call) -> None:
    if not call.user.is_admin:
        raise forbidden()


def _page(call: Call, items: list[Any]) -> Result:
    envelope, chunk = paginate(call.request, items)
    return 200, {**envelope, "results": chunk}


# --- jobs ---------------------------------------------------------------------------------------
def _job_out(call: Call, job: dict[str, Any]) -> dict[str, Any]:
    out = clone(job)
    if "connection" in listed(call.request, "expand"):
        conn = call.store.connections.get(job["connection"])
        out["connection"] = _connection_out(call, conn) if conn else None
    return out


def jobs(call: Call) -> Result:
    args = call.request.args
    items = []
    for job in call.store.jobs.values():
        if args.get("connection") and str(job["connection"]) != args["connection"]:
            continue
        if args.get("user") and str(job["user"]) != args["user"]:
            continue
        if any(flag(args.get(k)) is not None and job.get(k) is not flag(args.get(k))
               for k in ("completed", "manual", "succeeded")):
            continue
        items.append(_job_out(call, job))
    return _page(call, items)


def job(call: Call, job: int) -> Result:
    found = call.store.jobs.get(job)
    if found is None:
        raise not_found()
    return 200, _job_out(call, found)


def job_add(call: Call) -> Result:
    body = body_of(call.request)
    required(body, "connection")
    try:
        connection = int(body["connection"])
    except (TypeError, ValueError):
        raise field_errors({"connection": ["Incorrect type. Expected pk value."]}) from None
    if connection not in call.store.connections:
        raise field_errors({"connection": [f'Invalid pk "{connection}" - object does not exist.']})
    reported = "succeeded" in body
    ready = bool(body.get("ready", True)) if not reported else True
    item: dict[str, Any] = {"id": call.store.next_id("job"), "connection": connection,
            "succeeded": bool(body["succeeded"]) if reported else None,
            "last_run": iso(call.now()) if reported else None,
            "result_message": str(body.get("result_message") or ""), "user": call.user.id, "ready": ready,
            "automatic": bool(body.get("automatic", False)), "manual": not bool(body.get("automatic", False)),
            "completed": reported}
    call.store.jobs[item["id"]] = item
    return 201, clone(item)


# --- connectors ---------------------------------------------------------------------------------
def _system(body: dict[str, Any]) -> dict[str, Any]:
    system = body.get("system")
    sid = system.get("id") if isinstance(system, dict) else None
    if sid not in SYSTEMS:
        raise field_errors({"system": [f"Unknown ALM system {sid!r}; use one of: {', '.join(SYSTEMS)}."]})
    return dict(SYSTEMS[sid])


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("params")
    if not isinstance(params, dict):
        raise field_errors({"params": [f'Expected a dictionary of items but got type "{type(params).__name__}".']})
    return params


def connectors(call: Call) -> Result:
    return _page(call, [clone(c) for c in call.store.connectors.values()])


def connector(call: Call, connector: int) -> Result:
    found = call.store.connectors.get(connector)
    if found is None:
        raise not_found()
    return 200, clone(found)


def connector_add(call: Call) -> Result:
    _admin(call)
    body = body_of(call.request)
    required(body, "name", "system", "params")
    item: dict[str, Any] = {"id": call.store.next_id("connector"), "name": str(body["name"]), "system": _system(body),
            "inaccessible": bool(body.get("inaccessible", False)), "params": clone(_params(body))}
    call.store.connectors[item["id"]] = item
    return 201, clone(item)


def connector_patch(call: Call, connector: int) -> Result:
    _admin(call)
    found = call.store.connectors.get(connector)
    if found is None:
        raise not_found()
    body = body_of(call.request)
    if "name" in body:
        found["name"] = str(body["name"])
    if "system" in body:
        found["system"] = _system(body)
    if "inaccessible" in body:
        found["inaccessible"] = bool(body["inaccessible"])
    if "params" in body:
        found["params"] = clone(_params(body))
    return 200, clone(found)


def connector_delete(call: Call, connector: int) -> Result:
    _admin(call)
    if call.store.connectors.pop(connector, None) is None:
        raise not_found()
    return 204, None


def connector_test(call: Call) -> Result:
    body = body_of(call.request)
    required(body, "name", "system", "params")
    _system(body)
    _params(body)
    return 200, {"success": True}


# --- connections --------------------------------------------------------------------------------
def _connection_out(call: Call, conn: dict[str, Any], *, listing: bool = False) -> dict[str, Any]:
    """A connection as the API shows it (``in_progress`` only in lists, as the seed shows it)."""
    store = call.store
    out = {k: clone(v) for k, v in conn.items() if k not in ("own_params", "alm_reference_context")}
    connector_params = store.connectors.get(conn["connector"], {}).get("params", {}) if conn.get("merge") else {}
    params = {**clone(connector_params), **clone(conn["own_params"])}
    if conn.get("merge"):
        params.pop("title_format", None)
        project = store.projects.get(conn["project"])
        if project:
            app = store.applications[project["application"]]
            params.update({"sde_project": project["name"], "sde_application": app["name"],
                           "sde_businessunit": store.business_units[app["business_unit"]]["name"]})
    params["alm_reference_context"] = conn["alm_reference_context"]
    out.pop("merge", None)
    if call.user.is_admin:
        out["params"] = params
    if "last_job" in listed(call.request, "include"):
        runs = [j for j in store.jobs.values() if j["connection"] == conn["id"]]
        last = max(runs, key=lambda j: j["id"]) if runs else None
        out["last_job"] = ({k: last[k] for k in ("succeeded", "last_run", "result_message", "user", "ready",
                                                 "automatic", "id")} if last else None)
    order = ("id", "alias", "system", "frequency", "command", "debug_mode", "params", "inaccessible", "last_job",
             "in_progress", "connector", "project")
    if not listing:
        out.pop("in_progress", None)
    return {k: out[k] for k in order if k in out}


def connections(call: Call) -> Result:
    args = call.request.args
    items = [_connection_out(call, c, listing=True) for c in call.store.connections.values()
             if (not args.get("project") or str(c["project"]) == args["project"])
             and (not args.get("alias") or c["alias"] == args["alias"])
             and (not args.get("frequency") or c["frequency"] == args["frequency"])
             and (not args.get("system") or c["system"]["id"] == args["system"])]
    return _page(call, items)


def connection(call: Call, connection: int) -> Result:
    found = call.store.connections.get(connection)
    if found is None:
        raise not_found()
    return 200, _connection_out(call, found)


def _connection_fields(call: Call, body: dict[str, Any], conn: dict[str, Any]) -> None:
    if "connector" in body:
        connector = call.store.connectors.get(body["connector"]) if isinstance(body["connector"], int) else None
        if connector is None:
            raise field_errors({"connector": [f'Invalid pk "{body["connector"]}" - object does not exist.']})
        conn["connector"] = connector["id"]
        conn["system"] = clone(connector["system"])
        conn["command"] = f"sync_{connector['system']['id']}"
    if "project" in body:
        if not isinstance(body["project"], int) or body["project"] not in call.store.projects:
            raise field_errors({"project": [f'Invalid pk "{body["project"]}" - object does not exist.']})
        conn["project"] = body["project"]
    if "frequency" in body:
        if body["frequency"] not in FREQUENCIES:
            raise field_errors({"frequency": [f'"{body["frequency"]}" is not a valid choice.']})
        conn["frequency"] = body["frequency"]
    for key in ("alias", "debug_mode"):
        if key in body:
            conn[key] = body[key]
    if "params" in body:
        conn["own_params"] = {**conn.get("own_params", {}), **clone(_params(body))}


def connection_add(call: Call) -> Result:
    _admin(call)
    body = body_of(call.request)
    required(body, "alias", "connector", "project", "params")
    pk = call.store.next_id("connection")
    conn: dict[str, Any] = {"id": pk, "alias": "", "frequency": "manually", "debug_mode": False, "own_params": {},
                            "alm_reference_context": pk, "inaccessible": False, "in_progress": False,
                            "merge": True}
    _connection_fields(call, body, conn)
    call.store.connections[pk] = conn
    return 201, _connection_out(call, conn)


def connection_patch(call: Call, connection: int) -> Result:
    _admin(call)
    found = call.store.connections.get(connection)
    if found is None:
        raise not_found()
    _connection_fields(call, body_of(call.request), found)
    return 200, _connection_out(call, found)


def connection_delete(call: Call, connection: int) -> Result:
    _admin(call)
    if call.store.connections.pop(connection, None) is None:
        raise not_found()
    return 204, None


def connection_test(call: Call) -> Result:
    body = body_of(call.request)
    required(body, "alias", "connector", "project", "system", "params")
    _system(body)
    _params(body)
    if body["connector"] not in call.store.connectors:
        raise field_errors({"connector": [f'Invalid pk "{body["connector"]}" - object does not exist.']})
    return 200, {"success": True}
