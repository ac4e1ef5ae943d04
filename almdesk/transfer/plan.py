"""Planning an import: map, resolve and validate every connector and connection; write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from almdesk.base.fields import FieldErrors, FieldKind, parse_fields
from almdesk.config import FREQUENCIES, NETWORK_FIELDS, PROXY_PASSWORD, Config, connection_fields
from almdesk.errors import ConfigError
from almdesk.models import Connector, Project
from almdesk.sync.titles import check_title_settings
from almdesk.transfer.mapping import (
    PLACEHOLDER,
    PROJECT_KEYS,
    RENAMES_ALL,
    SDE_INTERNAL,
    SECRET_KEYS,
    URL_KEYS,
    build_url,
    first_field,
    renamed,
    resolve_system,
)
from almdesk.transfer.reading import (
    SHAPE_HINT,
    Collector,
    ImportPlan,
    PlannedConnection,
    PlannedConnector,
    load_document,
)


def _plan_connector(config: Config, raw: dict[str, Any], plan: ImportPlan, errors: Collector) -> None:
    name = str(raw.get("name") or "").strip()
    item = f"connector {name!r}"
    try:
        system_name = resolve_system(config, raw.get("system"))
    except ConfigError as exc:
        errors.add(item, exc, "system")
        errors.failed.update({name, f"#{raw.get('id')}"})
        return
    system = config.registry.get(system_name)
    smap = system.sde_map
    fields = {f.name: f for f in system.connector_fields}
    conn_fields = {f.name: f for f in connection_fields(system)}
    file_params = raw.get("params") or {}
    if not isinstance(file_params, dict):
        errors.add(item, ConfigError("params must be a JSON object.", SHAPE_HINT), "params")
        return
    params: dict[str, Any] = {}
    source: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    wanted: list[str] = []
    unknown: list[str] = []
    network = dict(raw.get("network") or {}) if isinstance(raw.get("network"), dict) else {}
    url_field = first_field(smap.url_fields, fields, secret=False)
    # sdetools' alm_method + alm_server + alm_context_root make the URL (unless the file has the URL field itself)
    compose = bool(url_field) and "alm_server" in file_params and (url_field == "alm_server"
                                                                    or url_field not in file_params)
    if compose and url_field:
        params[url_field], source[url_field] = build_url(file_params, smap), "alm_server"
    for key, value in file_params.items():
        target: str | None
        if key in URL_KEYS and compose:
            continue
        if key == "alm_validate_cert":
            network.setdefault("verify", value)
        elif key in SECRET_KEYS or (key in fields and fields[key].kind is FieldKind.SECRET):
            target = key if key in fields else first_field(smap.secrets.get(key, ()), fields, secret=True)
            if value not in (None, ""):
                plan.secrets_in_file.append(f"{item}: {key}")
            if target is None:
                plan.warnings.append(f"{item}: {key} has no matching {system.label} secret field; ignored.")
                continue
            wanted.append(target)
            auth = fields.get("auth_method") or fields.get("auth")
            options = smap.auth_choices.get(key, ())
            url = str(params.get(url_field or "") or "")
            host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
            if key in smap.auth_on_premises and not host.endswith(smap.cloud_hosts or ("\0",)):
                options = (smap.auth_on_premises[key], *options)
            choice = next((c for c in options if auth and c in auth.choices), None)
            if auth is not None and choice and auth.name not in file_params:
                params.setdefault(auth.name, choice)
        elif key in fields:
            params[key], source[key] = value, key
            if key in conn_fields:
                defaults[key] = value
        elif (target := first_field(smap.renames.get(key, ()), fields)) is not None:
            params[target], source[target] = value, key
        elif key in RENAMES_ALL or key in conn_fields:
            defaults[renamed(str(key))] = value
        elif key in SDE_INTERNAL:
            plan.warnings.append(f"{item}: {key} is SD Elements bookkeeping; ignored.")
        elif key in smap.retired:
            plan.warnings.append(f"{item}: {key} ignored: {smap.retired[key]}.")
        else:
            unknown.append(key)
    if unknown:
        plan.warnings.append(f"{item}: unknown setting(s) {', '.join(sorted(unknown))} for {system.label}; "
                             "ignored (not imported).")
    secret_names = [f.name for f in system.connector_fields if f.kind is FieldKind.SECRET]
    omitted = raw.get("secrets_omitted")  # our export names the secrets it left out
    omitted_names = [str(k) for k in omitted] if isinstance(omitted, list) else []
    wanted += [k for k in omitted_names if k in secret_names]
    required = [n for n in secret_names if fields[n].required]
    asked = [n for n in secret_names if n in required or n in wanted]
    net_raw = {k: v for k, v in network.items() if k in {f.name for f in NETWORK_FIELDS} and k != PROXY_PASSWORD}
    if network.get(PROXY_PASSWORD) not in (None, ""):
        plan.secrets_in_file.append(f"{item}: network.{PROXY_PASSWORD}")
    _ask_proxy_password(net_raw, omitted_names, asked, required)
    try:
        config.validate_connector(system_name, params, {k: PLACEHOLDER for k in asked}, net_raw)
    except ConfigError as exc:
        errors.add_fields(item, exc, source)
    if defaults:
        try:
            parse_fields(tuple(conn_fields.values()), defaults, partial=True)
        except ConfigError as exc:
            errors.add_fields(item, exc, {"alm_title_format": "title_format"})
    plan.connectors.append(PlannedConnector(name, system_name, params, net_raw, bool(raw.get("inaccessible")),
                                            defaults, raw.get("id")))
    if asked:
        plan.missing_secrets[name] = asked
        plan.required_secrets[name] = required


def _ask_proxy_password(network: dict[str, Any], omitted: list[str], asked: list[str], required: list[str]) -> None:
    """Ask for the proxy password when the connector goes through an authenticated proxy.

    An explicit proxy with a user is an authenticated proxy: its password is asked for (optional, as a
    proxy may take a user name alone) and it is required when our export says the connector had one. A
    password listed as omitted is asked for even without a proxy user (the exporter kept one).
    """
    mode = str(network.get("proxy_mode") or "system").strip()
    user = str(network.get("proxy_user") or "").strip()
    authenticated = mode == "explicit" and bool(user)
    if authenticated or PROXY_PASSWORD in omitted:
        asked.append(PROXY_PASSWORD)
    if authenticated and PROXY_PASSWORD in omitted:
        required.append(PROXY_PASSWORD)


def _resolve_connector(config: Config, plan: ImportPlan, ref: Any) -> tuple[str, str, PlannedConnector | None]:
    """(name, system, planned-or-None) of the connector a connection names by name or id."""
    if isinstance(ref, dict):
        ref = ref.get("name") or ref.get("id")
    if isinstance(ref, str) and not ref.strip().isdigit():
        for pc in plan.connectors:
            if pc.name == ref:
                return pc.name, pc.system, pc
        info = config.connector(ref)
        return info.name, info.system, None
    if ref is None or ref == "":
        raise ConfigError("no connector is named.", "Set \"connector\" to a connector's name or id.",
                          field="connector")
    num = int(ref)
    for pc in plan.connectors:
        if pc.source_id is not None and str(pc.source_id) == str(num):
            return pc.name, pc.system, pc
    with config.store.session() as s:
        row = s.get(Connector, num)
        if row is not None:
            return row.name, row.system, None
    raise ConfigError(f"connector id {num} is neither in the file nor among the existing connectors.",
                      "Import the connectors together with the connections (almdesk export writes both), or "
                      "create the connector first and put its name in \"connector\".", field="connector")


def _project_by_id(config: Config, ref: Any) -> str | None:
    if isinstance(ref, bool) or not isinstance(ref, int | str) or not str(ref).strip().isdigit():
        return None
    with config.store.session() as s:
        row = s.get(Project, int(ref))
        return row.name if row is not None else None


def _plan_connection(config: Config, raw: dict[str, Any], plan: ImportPlan, errors: Collector,
                     known_projects: set[str]) -> None:
    alias = str(raw.get("alias") or "").strip()
    item = f"connection {alias!r}"
    file_params = raw.get("params") or {}
    if not isinstance(file_params, dict):
        errors.add(item, ConfigError("params must be a JSON object.", SHAPE_HINT), "params")
        return
    ref = raw.get("connector")
    if str(ref) in errors.failed or f"#{ref}" in errors.failed:
        return  # its connector is already reported
    try:
        connector, system_name, planned = _resolve_connector(config, plan, ref)
    except ConfigError as exc:
        errors.add(item, exc, "connector")
        return
    if raw.get("system"):
        try:
            named = resolve_system(config, raw.get("system"))
        except ConfigError as exc:
            errors.add(item, exc, "system")
            return
        if named != system_name:
            errors.add(item, ConfigError(f"it is a {named} connection but connector {connector!r} is {system_name}.",
                                         "Point \"connector\" at a connector of the same system.",
                                         field="connector"))
            return
    system = config.registry.get(system_name)
    smap = system.sde_map
    conn_fields = {f.name: f for f in connection_fields(system)}
    connector_keys = {f.name for f in system.connector_fields} | set(URL_KEYS) | set(smap.renames) | set(
        smap.retired) | {"alm_validate_cert"}
    params: dict[str, Any] = dict(planned.connection_defaults) if planned else {}
    ignored: list[str] = []
    unknown: list[str] = []
    for key, value in file_params.items():
        if key in PROJECT_KEYS:
            continue
        if key in SECRET_KEYS or key in smap.secrets:
            if value not in (None, ""):
                plan.secrets_in_file.append(f"{item}: {key}")
        elif key in conn_fields or key in RENAMES_ALL:
            params[renamed(str(key))] = value
        elif key in connector_keys:
            ignored.append(key)
        elif key in SDE_INTERNAL:
            plan.warnings.append(f"{item}: {key} is SD Elements bookkeeping; ignored.")
        else:
            unknown.append(key)
    if ignored:
        plan.warnings.append(f"{item}: {', '.join(sorted(ignored))} are connector settings; the connection uses "
                             f"connector {connector!r}'s.")
    if unknown:
        plan.warnings.append(f"{item}: unknown setting(s) {', '.join(sorted(unknown))} for {system.label}; "
                             "ignored (not imported).")
    project = raw.get("project")
    if not isinstance(project, str) or not project.strip():
        project = file_params.get("sde_project") or _project_by_id(config, raw.get("project"))
    if not isinstance(project, str) or not project.strip():
        errors.add(item, ConfigError(f"its project is named only by the id {raw.get('project')!r}, which no "
                                     "existing project has.",
                                     "Add \"sde_project\": \"<project name>\" to its params, or put the project's "
                                     "name in \"project\".", field="project"))
    else:
        project = project.strip()
        if project not in known_projects:
            known_projects.add(project)
            plan.projects.append((project, str(file_params.get("sde_businessunit") or ""),
                                  str(file_params.get("sde_application") or "")))
    frequency = str(raw.get("frequency") or "manually")
    if frequency not in FREQUENCIES:
        errors.add(item, ConfigError(f"frequency cannot be {frequency!r}.", f"Use one of: {', '.join(FREQUENCIES)}."),
                   "frequency")
    try:
        parsed = parse_fields(tuple(conn_fields.values()), params)
        for key, title_error in check_title_settings(parsed).items():
            errors.add(item, title_error, key)
    except ConfigError as exc:
        errors.add_fields(item, exc, {"alm_title_format": "title_format"})
    plan.connections.append(PlannedConnection(alias, connector, str(project or ""), params, frequency,
                                              bool(raw.get("debug_mode"))))


def _duplicates(names: list[str], kind: str, existing: set[str], errors: Collector, key: str) -> None:
    seen: set[str] = set()
    for name in names:
        item = f"{kind} {name!r}"
        if not name:
            errors.add(f"{kind} (no {key})", ConfigError(f"a {kind} has no {key}.", f"Give every {kind} a {key}."), key)
        elif name in seen:
            errors.add(item, ConfigError(f"the file has two {kind}s named {name!r}.",
                                         f"Rename one of them in the file; {key}s must be unique."), key)
        elif name in existing:
            errors.add(item, ConfigError(f"a {kind} named {name!r} already exists.",
                                         f"Rename it in the file, or delete the existing {kind} first."), key)
        seen.add(name)


def plan_import(config: Config, path: Path) -> ImportPlan:
    """Read and validate ``path``; raise ConfigError/FieldErrors naming each bad item and field; write nothing."""
    raw_connectors, raw_connections = load_document(Path(path))
    plan = ImportPlan(str(path))
    errors = Collector()
    existing_connectors = {c.name for c in config.connectors()}
    existing_aliases = {c.alias for c in config.connections()}
    _duplicates([str(c.get("name") or "").strip() for c in raw_connectors], "connector", existing_connectors,
                errors, "name")
    _duplicates([str(c.get("alias") or "").strip() for c in raw_connections], "connection", existing_aliases,
                errors, "alias")
    for raw in raw_connectors:
        _plan_connector(config, raw, plan, errors)
    known_projects = {p["name"] for p in config.projects()}
    for raw in raw_connections:
        _plan_connection(config, raw, plan, errors, known_projects)
    used = {c.connector for c in plan.connections}
    for pc in plan.connectors:
        if pc.connection_defaults and pc.name not in used:
            plan.warnings.append(f"connector {pc.name!r}: {', '.join(sorted(pc.connection_defaults))} are connection "
                                 "settings in almdesk and no connection in the file uses this connector; not kept.")
    if errors.errors:
        raise FieldErrors(errors.errors)
    return plan


# one item at a time, for a caller that reads the server's items itself (almdesk.remote's pull)
plan_connector = _plan_connector
plan_connection = _plan_connection
