"""Export of connectors and connections in the SD Elements ALM API shapes, without secret values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from almdesk.base.fields import Field, FieldKind
from almdesk.config import Config, connection_fields
from almdesk.models import Connection, Project
from almdesk.systems.base import System

EXPORT_FORMAT = 1


def _system_ref(system: System) -> dict[str, str]:
    return {"id": system.name, "short_name": system.label, "name": system.label}


def _json_value(fld: Field | None, value: Any) -> Any:
    if fld is not None and fld.kind is FieldKind.MULTI_CHOICE and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def _public_params(fields: tuple[Field, ...], params: Mapping[str, Any]) -> dict[str, Any]:
    by_name = {f.name: f for f in fields}
    return {k: _json_value(by_name.get(k), v) for k, v in params.items()
            if k not in by_name or by_name[k].kind is not FieldKind.SECRET}


def export_config(config: Config, *, connectors: set[str] | None = None,
                  connections: set[str] | None = None) -> dict[str, Any]:
    """Connectors and connections (optionally only the named ones) in the SD Elements shapes, no secrets."""
    from almdesk.remote.export import server_params

    with config.store.session() as s:
        flags = {c.id: c.inaccessible for c in s.scalars(select(Connection))}
        projects = {p.name: (p.business_unit, p.application) for p in s.scalars(select(Project))}
    out_connectors = []
    for info in config.connectors():
        if connectors is not None and info.name not in connectors:
            continue
        system = config.registry.get(info.system)
        held = [k for k in info.secret_fields if config.secrets.get(info.uid, k)]
        mirrored = server_params(config, "connector", info.id)  # pulled from a server: its spelling
        out_connectors.append({"id": info.id, "name": info.name, "system": _system_ref(system),
                               "inaccessible": info.inaccessible,
                               "params": mirrored if mirrored is not None else _public_params(
                                   system.connector_fields, info.params),
                               "network": dict(info.network), "secrets_omitted": held})
    results = []
    for conn in config.connections():
        if connections is not None and conn.alias not in connections:
            continue
        system = config.registry.get(conn.system)
        bu, app = projects.get(conn.project, ("", ""))
        own = server_params(config, "connection", conn.id)
        params = own if own is not None else _public_params(connection_fields(system), conn.params)
        params.update({"sde_businessunit": bu, "sde_application": app, "sde_project": conn.project})
        results.append({"id": conn.id, "alias": conn.alias, "system": _system_ref(system),
                        "frequency": conn.frequency, "command": f"sync_{conn.system}", "debug_mode": conn.debug_mode,
                        "params": params, "inaccessible": flags.get(conn.id, False), "in_progress": conn.in_progress,
                        "connector": conn.connector, "project": conn.project})
    return {"format": "almdesk-alm-export", "version": EXPORT_FORMAT,
            "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            "secrets": "omitted: the importer asks for them", "results": results, "connectors": out_connectors}
