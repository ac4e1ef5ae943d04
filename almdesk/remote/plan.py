"""``almdesk remote plan``: what a push would change on the server, per item and per field.

The desired server state of each mirrored (or new) local item is built from the local settings in
the server's spelling (:mod:`almdesk.remote.shapes`), over what was last pulled; it is compared with
what the server has now (read fresh). A connection's desired params are compared with the
*effective* (merged) value on the server, so an own param equal to the inherited one is no change.
Secrets are compared by value but shown only as "changed"/"unchanged". The bodies built here carry
secrets: they are sent, never printed (:meth:`Change.as_dict` leaves them out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from almdesk.base.fields import FieldKind
from almdesk.config import Config, connection_fields
from almdesk.models import Project
from almdesk.remote import items as rows
from almdesk.remote.shapes import connection_params, connector_params, norm, public, same
from almdesk.systems.base import System
from almdesk.systems.sdelements.client import SdeClient
from almdesk.transfer.mapping import SECRET_KEYS, renamed

CHANGING = ("create", "update", "delete")


@dataclass
class FieldChange:
    field: str
    server: Any = None
    local: Any = None
    secret: bool = False

    def as_dict(self) -> dict[str, Any]:
        if self.secret:
            return {"field": self.field, "secret": True,
                    "change": "changed" if self.server != self.local else "unchanged"}
        return {"field": self.field, "server": self.server, "local": self.local}

    @property
    def changed(self) -> bool:
        return self.server != self.local if self.secret else norm(self.server) != norm(self.local)


@dataclass
class Change:
    kind: str  # connector | connection
    name: str
    action: str  # create | update | delete | unchanged | read-only | server-only | blocked
    server_id: int | None = None
    row_id: int | None = None
    local_id: int | None = None
    system: str = ""
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""
    body: dict[str, Any] = field(default_factory=dict, repr=False)  # holds secrets: never shown
    secret_map: dict[str, str] = field(default_factory=dict)  # server secret param → local field

    def as_dict(self) -> dict[str, Any]:
        shown = [f.as_dict() for f in self.fields if f.changed or f.secret]
        return {"kind": self.kind, "name": self.name, "action": self.action, "server_id": self.server_id,
                "system": self.system, "fields": shown, "reason": self.reason}


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action in CHANGING]

    def as_dict(self) -> dict[str, Any]:
        return {"changes": [c.as_dict() for c in self.changes], "pending": len(self.pending)}

    def lines(self) -> list[str]:
        out = []
        for c in self.changes:
            head = f"{c.action:11} {c.kind:10} {c.name}" + (f" (server id {c.server_id})" if c.server_id else "")
            out.append(head + (f" — {c.reason}" if c.reason else ""))
            for f in c.fields:
                if f.secret:
                    out.append(f"    {f.field}: secret {'changed' if f.changed else 'unchanged'}")
                elif f.changed:
                    out.append(f"    {f.field}: {_show(f.server)} → {_show(f.local)}")
        pending = len(self.pending)
        out.append("Nothing to change on the server." if not pending else f"{pending} change(s) to push.")
        return out


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value)


def _diff(have: dict[str, Any] | None, want: dict[str, Any], secrets: dict[str, str]) -> list[FieldChange]:
    have = have or {}
    return [FieldChange(k, have.get(k), v, secret=k in secrets) for k, v in want.items()]


def local_secret_keys(system: System, secret_fields: list[str], params: dict[str, Any]) -> dict[str, str]:
    """For a connector never pulled: which server param carries each local secret field."""
    out: dict[str, str] = {}
    for name in secret_fields:
        if name in SECRET_KEYS:
            out[name] = name
            continue
        fld = next((f for f in system.connector_fields if f.name == name), None)
        if fld is None or fld.kind is not FieldKind.SECRET:
            continue
        candidates = [k for k in SECRET_KEYS if name in system.sde_map.secrets.get(k, ())]
        auth = str(params.get("auth_method") or "")
        pick = next((k for k in candidates if auth in system.sde_map.auth_choices.get(k, ())), None)
        if pick or candidates:
            out[pick or candidates[0]] = name
    return out


def build_plan(config: Config, source: str, client: SdeClient) -> Plan:
    store = config.store
    sid = rows.source_id(store, source)
    server_connectors, server_connections = rows.read_server(client)
    on_server_c = {int(c["id"]): c for c in server_connectors if isinstance(c.get("id"), int)}
    on_server_n = {int(c["id"]): c for c in server_connections if isinstance(c.get("id"), int)}
    plan = Plan()
    mirrored = rows.items(store, sid)
    desired_connector: dict[int, dict[str, Any]] = {}  # local connector id → desired params
    server_of_local: dict[int, int | None] = {}
    for item in [i for i in mirrored if i.kind == "connector"]:
        plan.changes.append(_connector_change(config, item, on_server_c, desired_connector, server_of_local))
    for cid in _new_connectors(config, sid, server_of_local):
        plan.changes.append(_connector_change(config, None, on_server_c, desired_connector, server_of_local, cid))
    for item in [i for i in mirrored if i.kind == "connection"]:
        plan.changes.append(_connection_change(config, sid, item, None, on_server_c, on_server_n, desired_connector,
                                               server_of_local))
    for conn_id in _new_connections(config, sid):
        plan.changes.append(_connection_change(config, sid, None, conn_id, on_server_c, on_server_n,
                                               desired_connector, server_of_local))
    known = {(i.kind, i.server_id) for i in mirrored}
    for kind, found, key in (("connector", on_server_c, "name"), ("connection", on_server_n, "alias")):
        for server_id, raw in found.items():
            if (kind, server_id) not in known:
                plan.changes.append(Change(kind, str(raw.get(key)), "server-only", server_id,
                                           reason="on the server only: pull to bring it here"))
    return plan


def _bound_projects(config: Config, sid: int) -> dict[int, int]:
    """Local project id → server project id, for projects bound to this SD Elements connector."""
    with config.store.session() as s:
        return {p.id: int(p.source_project) for p in s.scalars(select(Project).where(Project.source_connector_id == sid))
                if p.source_project is not None}


def _new_connections(config: Config, sid: int) -> list[int]:
    bound = set(_bound_projects(config, sid))
    names = {p["id"]: p["name"] for p in config.projects()}
    wanted = {names[p] for p in bound if p in names}
    return [c.id for c in config.connections() if c.project in wanted
            and rows.mirror_of(config.store, connection_id=c.id) is None and c.system in config.registry]


def _new_connectors(config: Config, sid: int, known: dict[int, int | None]) -> list[int]:
    out: list[int] = []
    for conn_id in _new_connections(config, sid):
        info = config.connector(config.connection(conn_id).connector)
        if info.id not in known and info.id not in out:
            out.append(info.id)
    return out


def _connector_change(config: Config, item: rows.Item | None, on_server: dict[int, dict[str, Any]],
                      desired: dict[int, dict[str, Any]], server_of_local: dict[int, int | None],
                      new_id: int | None = None) -> Change:
    if item is not None and (item.read_only or item.connector_id is None):
        if item.read_only:
            return Change("connector", item.name, "read-only", item.server_id, item.id, reason=item.read_only)
        gone = item.server_id in on_server
        return Change("connector", item.name, "delete" if gone else "unchanged", item.server_id, item.id,
                      reason="deleted here; deleted on the server only with --delete" if gone else "gone on both")
    local_id = item.connector_id if item is not None else new_id
    assert local_id is not None
    info = config.connector(local_id)
    system = config.registry.get(info.system)
    base = item.params if item else {}
    keys = item.secret_keys if item and item.secret_keys else local_secret_keys(system, info.secret_fields, info.params)
    params = connector_params(system, info.params, base)
    desired[local_id] = dict(params)
    for key, local_field in keys.items():
        value = config.secrets.get(info.uid, local_field)
        if value:
            params[key] = value
    system_id = item.system_id if item else system.name
    server_raw = on_server.get(item.server_id) if item and item.server_id is not None else None
    server_of_local[local_id] = item.server_id if server_raw is not None and item is not None else None
    body = {"name": info.name, "system": {"id": system_id}, "inaccessible": info.inaccessible, "params": params}
    change = Change("connector", info.name, "update" if server_raw else "create",
                    item.server_id if server_raw and item else None, item.id if item else None, local_id, system_id,
                    body=body, secret_map=keys)
    have = server_raw or {}
    change.fields = [FieldChange("name", have.get("name"), info.name),
                     FieldChange("system", (have.get("system") or {}).get("id") if have else None, system_id),
                     FieldChange("inaccessible", have.get("inaccessible") if have else None, info.inaccessible)]
    change.fields += _diff(have.get("params") if isinstance(have.get("params"), dict) else None, params, keys)
    if server_raw and not any(f.changed for f in change.fields):
        change.action = "unchanged"
    if item is None:
        change.reason = "new here: used by a connection of a project bound to this server"
    elif not server_raw:
        change.reason = "gone on the server: it is created again"
    return change


def _connection_change(config: Config, sid: int, item: rows.Item | None, new_id: int | None,
                       on_connectors: dict[int, dict[str, Any]], on_server: dict[int, dict[str, Any]],
                       desired_connector: dict[int, dict[str, Any]], server_of_local: dict[int, int | None]) -> Change:
    if item is not None and (item.read_only or item.connection_id is None):
        if item.read_only:
            return Change("connection", item.name, "read-only", item.server_id, item.id, reason=item.read_only)
        gone = item.server_id in on_server
        return Change("connection", item.name, "delete" if gone else "unchanged", item.server_id, item.id,
                      reason="deleted here; deleted on the server only with --delete" if gone else "gone on both")
    local_id = item.connection_id if item is not None else new_id
    assert local_id is not None
    info = config.connection(local_id)
    system = config.registry.get(info.system)
    connector = config.connector(info.connector)
    server_connector = server_of_local.get(connector.id)
    projects = _bound_projects(config, sid)
    server_project = projects.get(config.project_id(info.project)) if info.project else None
    server_raw = on_server.get(item.server_id) if item and item.server_id is not None else None
    change = Change("connection", info.alias, "update" if server_raw else "create",
                    item.server_id if server_raw and item else None, item.id if item else None, local_id,
                    item.system_id if item else system.name)
    if server_project is None:
        change.action, change.reason = "blocked", f"its project {info.project!r} is not bound to this server"
        return change
    inherited = (on_connectors.get(server_connector) or {}).get("params") if server_connector else None
    inherited = inherited if isinstance(inherited, dict) else desired_connector.get(connector.id, {})
    own = connection_params(connection_fields(system), info.params, item.params if item else {}, inherited)
    own = public(own, system)
    body: dict[str, Any] = {"alias": info.alias, "connector": server_connector, "project": server_project,
                            "frequency": info.frequency, "debug_mode": info.debug_mode, "params": own}
    change.body = body
    have = server_raw or {}
    merged = have.get("params") if isinstance(have.get("params"), dict) else None
    effective = {renamed(k): v for k, v in (merged or {}).items()}
    change.fields = [FieldChange(k, have.get(k), body[k]) for k in ("alias", "frequency", "debug_mode", "project")]
    change.fields.append(FieldChange("connector", have.get("connector"),
                                     server_connector if server_connector is not None else "(new connector)"))
    if merged is None and server_raw:
        change.reason = f"the server hid its params ({rows.EDIT_PERMISSION}): only its other fields are compared"
    else:
        change.fields += [FieldChange(k, effective.get(renamed(k)), v) for k, v in own.items()
                          if not (server_raw is None and same(v, (inherited or {}).get(k)))]
    if server_raw and not any(f.changed for f in change.fields):
        change.action = "unchanged"
    if server_raw is None:
        change.reason = change.reason or ("new here" if item is None else "gone on the server: it is created again")
    return change
