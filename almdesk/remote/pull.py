"""``almdesk remote pull``: the server's ALM connectors and connections into the local store.

Each connector is mapped with the import's rules (:func:`almdesk.transfer.plan.plan_connector`),
its secret params go straight to the keyring (never to the store, the log or the output), and it
is saved over the local connector it mirrors (re-pull updates in place). Each connection keeps only
its own params (:func:`~almdesk.remote.shapes.split_own`) and is bound to the local project bound
to the same server project (bound now when there is none). An item almdesk cannot take (unknown
system, settings almdesk refuses, a connector of another system) is kept as a read-only row with
the reason; items whose params the server hid (no "Edit ALM connections") are named. Each item is
written on its own: a failure leaves the items before it pulled and nothing of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from almdesk.base.fields import FieldErrors
from almdesk.config import Config
from almdesk.errors import ConfigError
from almdesk.models import Connection, Connector, Project
from almdesk.remote import items as rows
from almdesk.remote.shapes import public, secret_keys, split_own
from almdesk.sources import bind_project
from almdesk.systems.sdelements.client import SdeClient
from almdesk.transfer.mapping import resolve_system
from almdesk.transfer.plan import plan_connection, plan_connector
from almdesk.transfer.reading import Collector, ImportPlan, PlannedConnector


@dataclass
class PullReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)  # "connector 'X': why"
    no_params: list[str] = field(default_factory=list)  # items the server sent without params
    projects: list[str] = field(default_factory=list)  # local projects bound by this pull
    notes: list[str] = field(default_factory=list)
    secrets: int = 0  # secret values moved to the keyring

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "read_only": self.read_only,
                "no_params": self.no_params, "projects": self.projects, "notes": self.notes,
                "secrets_to_keyring": self.secrets}

    def lines(self) -> list[str]:
        out = [f"{len(self.created)} created, {len(self.updated)} updated, {len(self.read_only)} read-only; "
               f"{self.secrets} secret(s) moved to the keyring."]
        out += [f"  read-only {r}" for r in self.read_only]
        if self.no_params:
            out.append(f"  {len(self.no_params)} item(s) came without params ({', '.join(self.no_params)}): the "
                       f"token's user lacks the '{rows.EDIT_PERMISSION}' permission. Ask an SD Elements admin for "
                       "it, or use an admin's API token, and pull again.")
        out += [f"  bound project {p}" for p in self.projects]
        out += [f"  note: {n}" for n in self.notes]
        return out


def _why(exc: ConfigError) -> str:
    if isinstance(exc, FieldErrors):
        return "; ".join(f"{e.message}" for e in exc.errors.values())
    return exc.message


def pull(config: Config, source: str, client: SdeClient) -> PullReport:
    store = config.store
    sid = rows.source_id(store, source)
    raw_connectors, raw_connections = client_read(client)
    report = PullReport()
    known = {(i.kind, i.server_id): i for i in rows.items(store, sid)}
    planned: dict[int, tuple[PlannedConnector, int]] = {}  # server connector id → (mapped, local id)
    for raw in raw_connectors:
        _connector(config, sid, raw, known, planned, report)
    by_id = {int(c["id"]): c for c in raw_connectors if isinstance(c.get("id"), int)}
    for raw in raw_connections:
        _connection(config, client, sid, source, raw, by_id, known, planned, report)
    return report


def client_read(client: SdeClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return rows.read_server(client)


def _connector(config: Config, sid: int, raw: dict[str, Any], known: dict[tuple[str, int | None], rows.Item],
               planned: dict[int, tuple[PlannedConnector, int]], report: PullReport) -> None:
    server_id = int(raw["id"])
    name = str(raw.get("name") or f"connector {server_id}")
    item = f"connector {name!r}"
    system_obj: dict[str, Any] = raw["system"] if isinstance(raw.get("system"), dict) else {"id": raw.get("system")}
    system_id = str(system_obj.get("id") or "")
    mine = known.get(("connector", server_id))
    facts: dict[str, Any] = {"system": system_obj, "inaccessible": bool(raw.get("inaccessible"))}
    base: dict[str, Any] = {"name": name, "system_id": system_id, "server": facts}
    params = raw.get("params")
    if not isinstance(params, dict):
        report.no_params.append(item)
        rows.save(config.store, sid, "connector", server_id, **base,
                  read_only="" if mine and mine.connector_id else f"params hidden ({rows.EDIT_PERMISSION})")
        return
    try:
        system_name = resolve_system(config, system_obj)
    except ConfigError:
        reason = f"unknown system {system_id!r}: almdesk has no such ALM system; kept read-only"
        report.read_only.append(f"{item}: {reason}")
        rows.save(config.store, sid, "connector", server_id, **base, params=public(params, None), read_only=reason)
        return
    system = config.registry.get(system_name)
    plan, errors = ImportPlan("server"), Collector()
    plan_connector(config, {**raw, "name": name}, plan, errors)
    if errors.errors or not plan.connectors:
        reason = "; ".join(e.message for e in errors.errors.values()) or "not mappable"
        report.read_only.append(f"{item}: {reason}")
        rows.save(config.store, sid, "connector", server_id, **base, params=public(params, system), read_only=reason)
        return
    pc = plan.connectors[0]
    keys = secret_keys(system, params)
    secrets = {target: str(params[key]) for key, target in keys.items() if params.get(key) not in (None, "")}
    local_id = mine.connector_id if mine else None
    if local_id is None:
        with config.store.session() as s:
            clash = s.scalar(select(Connector).where(Connector.name == name))
            if clash is not None and clash.system == system_name and rows.mirror_of(config.store,
                                                                                     connector_id=clash.id) is None:
                local_id = clash.id
    try:
        network = config.connector(local_id).network if local_id else {}
        cid = config.save_connector(name, system_name, pc.params, secrets, {**network, **pc.network},
                                    connector_id=local_id)
    except ConfigError as exc:
        reason = _why(exc)
        report.read_only.append(f"{item}: {reason}")
        rows.save(config.store, sid, "connector", server_id, **base, params=public(params, system), read_only=reason)
        return
    with config.store.session() as s:
        row = s.get(Connector, cid)
        assert row is not None
        row.inaccessible = bool(raw.get("inaccessible"))
    report.secrets += len(secrets)
    (report.updated if local_id else report.created).append(item)
    rows.save(config.store, sid, "connector", server_id, **base, connector_id=cid, params=public(params, system),
              secret_keys=keys, read_only="")
    pc.source_id = server_id
    planned[server_id] = (pc, cid)
    report.notes += [w for w in plan.warnings if "no connection in the file" not in w and "bookkeeping" not in w]


def _project(config: Config, client: SdeClient, sid: int, source: str, server_project: int,
             params: dict[str, Any], report: PullReport) -> str:
    """The local project bound to ``server_project`` on ``source`` (bound, or created, when missing)."""
    from almdesk.systems.sdelements.source import hierarchy, read_project

    with config.store.session() as s:
        bound = s.scalar(select(Project).where(Project.source_connector_id == sid,
                                               Project.source_project == server_project))
        if bound is not None:
            return bound.name
    name = str(params.get("sde_project") or "")
    bu, app = str(params.get("sde_businessunit") or ""), str(params.get("sde_application") or "")
    if not (name and bu and app):
        data = read_project(client, server_project)
        name = name or str(data.get("name") or f"SD Elements project {server_project}")
        if not (bu and app):
            bu, app = hierarchy(client, data)
    with config.store.session() as s:
        same = s.scalar(select(Project).where(Project.name == name))
        if same is not None and same.source_connector_id is None:
            pid = same.id
        else:
            pid = 0
            if same is not None:
                name = f"{name} ({source} #{server_project})"
    if not pid:
        pid = config.add_project(name, bu, app)
    bind_project(config.store, config.registry, pid, source, server_project)
    report.projects.append(f"{name!r} ↔ SD Elements project {server_project}")
    return name


def _connection(config: Config, client: SdeClient, sid: int, source: str, raw: dict[str, Any],
                by_id: dict[int, dict[str, Any]], known: dict[tuple[str, int | None], rows.Item],
                planned: dict[int, tuple[PlannedConnector, int]], report: PullReport) -> None:
    server_id = int(raw["id"])
    alias = str(raw.get("alias") or f"connection {server_id}")
    item = f"connection {alias!r}"
    system_obj: dict[str, Any] = raw["system"] if isinstance(raw.get("system"), dict) else {"id": raw.get("system")}
    mine = known.get(("connection", server_id))
    base: dict[str, Any] = {"name": alias, "system_id": str(system_obj.get("id") or ""), "server": rows.server_facts(raw)}

    def read_only(reason: str, params: dict[str, Any] | None = None) -> None:
        report.read_only.append(f"{item}: {reason}")
        rows.save(config.store, sid, "connection", server_id, **base, params=params or {}, read_only=reason)

    params = raw.get("params")
    if not isinstance(params, dict):
        report.no_params.append(item)
        rows.save(config.store, sid, "connection", server_id, **base,
                  read_only="" if mine and mine.connection_id else f"params hidden ({rows.EDIT_PERMISSION})")
        return
    connector_ref = raw.get("connector")
    parent = planned.get(connector_ref) if isinstance(connector_ref, int) else None
    if parent is None or not isinstance(connector_ref, int):
        read_only(f"its connector (server id {connector_ref}) is not pulled (read-only or missing)",
                  public(params, None))
        return
    pc, local_connector = parent
    system = config.registry.get(pc.system)
    try:
        named = resolve_system(config, system_obj)
    except ConfigError:
        named = str(system_obj.get("id"))
    if named != pc.system:
        read_only(f"it is a {system_obj.get('id')} connection but its connector is {pc.system}",
                  public(params, system))
        return
    inherited = (by_id.get(connector_ref) or {}).get("params") or {}
    own = split_own(params, inherited if isinstance(inherited, dict) else {})
    server_project = raw.get("project")
    if not isinstance(server_project, int):
        read_only(f"its project {server_project!r} is not a project id", public(own, system))
        return
    project = _project(config, client, sid, source, server_project, params, report)
    plan, errors = ImportPlan("server", connectors=[pc]), Collector()
    plan_connection(config, {"alias": alias, "connector": connector_ref, "project": project,
                             "frequency": raw.get("frequency") or "manually", "debug_mode": raw.get("debug_mode"),
                             "params": own}, plan, errors, {project})
    if errors.errors or not plan.connections:
        read_only("; ".join(e.message for e in errors.errors.values()) or "not mappable", public(own, system))
        return
    conn = plan.connections[0]
    local_id = mine.connection_id if mine else None
    if local_id is None:
        with config.store.session() as s:
            clash = s.scalar(select(Connection).where(Connection.alias == alias))
            if clash is not None and clash.connector_id == local_connector and rows.mirror_of(
                    config.store, connection_id=clash.id) is None:
                local_id = clash.id
    try:
        cid = config.save_connection(alias, local_connector, project, conn.params, frequency=conn.frequency,
                                     debug_mode=conn.debug_mode, connection_id=local_id)
    except ConfigError as exc:
        read_only(_why(exc), public(own, system))
        return
    for secret in plan.secrets_in_file:
        report.notes.append(f"{secret.split(':')[0]} carries its own {secret.split(': ')[-1]}: almdesk keeps "
                            "secrets per connector; not stored (the connector's is used).")
    with config.store.session() as s:
        row = s.get(Connection, cid)
        assert row is not None
        row.inaccessible = bool(raw.get("inaccessible"))
    (report.updated if local_id else report.created).append(item)
    rows.save(config.store, sid, "connection", server_id, **base, connection_id=cid, params=public(own, system),
              read_only="")
