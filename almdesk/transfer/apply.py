"""Applying an import plan: all or nothing, with the rows and keyring entries of a failed write undone."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from almdesk.base.fields import FieldErrors
from almdesk.config import NETWORK_FIELDS, Config
from almdesk.errors import ConfigError
from almdesk.models import Connector, Project
from almdesk.transfer.reading import Collector, ImportPlan

log = logging.getLogger(__name__)


def _secret_label(config: Config, plan: ImportPlan, connector: str, key: str) -> str:
    """The label of a connector's secret field (the system's or the proxy password), for messages."""
    system = next((pc.system for pc in plan.connectors if pc.name == connector), None)
    fields = (*config.registry.get(system).connector_fields, *NETWORK_FIELDS) if system else NETWORK_FIELDS
    return next((f.label for f in fields if f.name == key), key)


def _check_secrets(config: Config, plan: ImportPlan, secrets: Mapping[str, Mapping[str, str]]) -> None:
    errors = Collector()
    for name in secrets:
        if name not in plan.missing_secrets:
            errors.add(f"connector {name!r}", ConfigError("no secret is needed for it in this import.",
                                                          "Give secrets only for the connectors asked about."))
    for name, keys in plan.missing_secrets.items():
        given = secrets.get(name, {})
        for key in given:
            if key not in keys:
                errors.add(f"connector {name!r}", ConfigError(f"{key!r} is not one of its secret fields.",
                                                              f"Use: {', '.join(keys)}."), key)
        for key in plan.required_secrets.get(name, []):
            if not given.get(key):
                label = _secret_label(config, plan, name, key)
                errors.add(f"connector {name!r}", ConfigError(f"{label} ({key}) is required.",
                                                              "Enter it when the import asks for it."), key)
    if errors.errors:
        raise FieldErrors(errors.errors)


def apply_import(config: Config, plan: ImportPlan, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Write the plan: projects, connectors (secrets to the keyring), connections. All or nothing."""
    _check_secrets(config, plan, secrets)
    made_projects: list[int] = []
    made_connectors: list[int] = []
    made_connections: list[int] = []
    try:
        existing = {p["name"] for p in config.projects()}
        for name, bu, app in plan.projects:
            if name not in existing:
                made_projects.append(config.add_project(name, bu, app))
        for pc in plan.connectors:
            given = {k: v for k, v in secrets.get(pc.name, {}).items() if v}
            cid = config.save_connector(pc.name, pc.system, pc.params, given, pc.network)
            made_connectors.append(cid)
            if pc.inaccessible:
                with config.store.session() as s:
                    row = s.get(Connector, cid)
                    if row is not None:
                        row.inaccessible = True
        for conn in plan.connections:
            made_connections.append(config.save_connection(conn.alias, conn.connector, conn.project, conn.params,
                                                           frequency=conn.frequency, debug_mode=conn.debug_mode))
    except BaseException:
        _roll_back(config, made_projects, made_connectors, made_connections)
        raise
    note = ("Secret values found in the file (" + "; ".join(plan.secrets_in_file) + ") were NOT imported or "
            "stored anywhere; the secrets were asked for instead.") if plan.secrets_in_file else \
        "The file held no secret values; secrets were asked for."
    log.info("imported %d connector(s), %d connection(s) from %s", len(made_connectors), len(made_connections),
             plan.path)
    return {"connectors": len(made_connectors), "connections": len(made_connections),
            "projects": len(made_projects), "warnings": list(plan.warnings),
            "secrets_not_imported": list(plan.secrets_in_file), "secrets_note": note}


def _roll_back(config: Config, projects: list[int], connectors: list[int], connections: list[int]) -> None:
    """Remove what a failed import wrote, newest first; keyring entries go with their connectors."""
    for conn_id in reversed(connections):
        try:
            config.delete_connection(conn_id)
        except Exception:  # keep undoing the rest
            log.exception("import rollback: could not remove connection %s", conn_id)
    for cid in reversed(connectors):
        try:
            config.delete_connector(cid)
        except Exception:
            log.exception("import rollback: could not remove connector %s", cid)
    if projects:
        with config.store.session() as s:
            for pid in projects:
                row = s.get(Project, pid)
                if row is not None:
                    s.delete(row)
