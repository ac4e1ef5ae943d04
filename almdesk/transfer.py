"""Import and export of connectors and connections in the SD Elements ALM API JSON shapes (seed 002).

Export writes ``{"results": [connections…], "connectors": [connectors…]}`` with no secret values.
Import accepts that, a bare connectors list (``GET /api/v2/connectors/alm/``), a bare connections
list (``GET /api/v2/connections/alm/``, where ``connector`` is an id) or one object of either kind.
sdetools parameter names are mapped to each system's fields (:data:`SYSTEM_MAPS`); secret values in
the file are never stored: the secret fields become ``missing_secrets`` to ask the user for.

:func:`plan_import` validates everything and writes nothing; :func:`apply_import` writes all or
nothing (it removes the rows and keyring entries it wrote when a later write fails).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from almdesk.config import FREQUENCIES, NETWORK_FIELDS, Config, connection_fields
from almdesk.errors import ConfigError
from almdesk.models import Connection, Connector, Project
from almdesk.systems.base import Field, FieldErrors, FieldKind, System, parse_fields

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
URL_KEYS = ("alm_server", "alm_method", "alm_context_root")
PROJECT_KEYS = ("sde_businessunit", "sde_application", "sde_project")
SECRET_KEYS = ("alm_pass", "alm_api_token", "alm_api_key", "alm_client_secret")
# SD Elements bookkeeping that means nothing to almdesk.
SDE_INTERNAL = frozenset({"alm_reference_context", "session_capture_socket", "start_fresh", "selected_tasks",
                          "how_tos_in_scope", "alm_context", "debug_mode"})
RENAMES_ALL = {"title_format": "alm_title_format"}
_PLACEHOLDER = "\x00placeholder\x00"


def _renamed(key: str) -> str:
    return RENAMES_ALL.get(key, key)


@dataclass(frozen=True)
class SystemMap:
    """How one system's sdetools parameters map to almdesk's field names (first existing name wins)."""

    sde_ids: tuple[str, ...]
    url_fields: tuple[str, ...] = ("url", "server_url", "alm_server", "server", "location")
    renames: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    auth_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # sdetools secret → auth value
    default_host: str = ""
    enterprise_suffix: str = ""  # appended to the URL of a server other than default_host
    cloud_hosts: tuple[str, ...] = ()  # host suffixes of the vendor's cloud
    auth_on_premises: Mapping[str, str] = field(default_factory=dict)  # sdetools secret → auth off the cloud
    retired: Mapping[str, str] = field(default_factory=dict)  # sdetools names almdesk does not need, and why


_USER = ("alm_user", "user", "username", "email")
_PASS = ("alm_pass", "password", "api_token", "token")
_TOKEN = ("alm_api_token", "api_token", "token", "personal_access_token", "pat", "alm_api_key", "api_key")

SYSTEM_MAPS: dict[str, SystemMap] = {
    # Octane is not in sdetools; SD Elements' connector uses the server + API key as user/password.
    "octane": SystemMap(
        sde_ids=("octane", "alm_octane", "hpe_octane", "microfocus_octane", "opentext_octane"),
        url_fields=("location", "url", "server_url"),
        renames={"alm_user": ("client_id",), "octane_client_id": ("client_id",), "alm_client_id": ("client_id",),
                 "octane_shared_space": ("shared_space",), "alm_shared_space": ("shared_space",),
                 "octane_workspace": ("workspace",), "alm_workspace": ("workspace",), "octane_user": ("user",)},
        secrets={"alm_pass": ("client_secret",), "alm_api_token": ("client_secret",),
                 "alm_client_secret": ("client_secret",), "alm_api_key": ("client_secret",)}),
    "jira": SystemMap(
        sde_ids=("jira", "jira_cloud", "jira_server", "jira_dc"),
        renames={"alm_user": ("alm_user", "email", "user", "username")},
        secrets={"alm_pass": ("alm_pass", "api_token", "password", "token"),
                 "alm_api_token": ("alm_api_token", "pat", "personal_access_token", "api_token", "token")},
        auth_choices={"alm_pass": ("api_token",), "alm_api_token": ("pat", "bearer")},
        cloud_hosts=(".atlassian.net", ".jira.com", ".jira-dev.com"), auth_on_premises={"alm_pass": "basic"},
        retired={"jira_version": "almdesk reads the Jira version from the server"}),
    "github": SystemMap(
        sde_ids=("github", "github_enterprise"),
        url_fields=("url", "api_url", "alm_server", "server_url"),
        renames={"alm_user": ("alm_user", "user")},
        secrets={"alm_api_token": _TOKEN, "alm_pass": _TOKEN},
        default_host="api.github.com", enterprise_suffix="/api/v3"),
    "rally": SystemMap(
        sde_ids=("rally", "ca_agile_central", "agile_central", "rally_software"),
        renames={"alm_user": _USER},
        secrets={"alm_pass": ("alm_pass", "password"), "alm_api_key": ("alm_api_key", "api_key"),
                 "alm_api_token": ("alm_api_key", "api_key", "alm_api_token")},
        auth_choices={"alm_pass": ("password", "basic", "user_password"), "alm_api_key": ("api_key", "apikey"),
                      "alm_api_token": ("api_key", "apikey")}),
}
FALLBACK_MAP = SystemMap(sde_ids=(), renames={"alm_user": _USER}, secrets={"alm_pass": _PASS, "alm_api_token": _TOKEN})


@dataclass
class PlannedConnector:
    name: str
    system: str
    params: dict[str, Any]  # raw values keyed by almdesk field names (the field schema parses them)
    network: dict[str, Any]
    inaccessible: bool = False
    connection_defaults: dict[str, Any] = field(default_factory=dict)
    source_id: Any = None


@dataclass
class PlannedConnection:
    alias: str
    connector: str
    project: str
    params: dict[str, Any]
    frequency: str = "manually"
    debug_mode: bool = False


@dataclass
class ImportPlan:
    """What an import would write; nothing is written until :func:`apply_import`."""

    path: str
    connectors: list[PlannedConnector] = field(default_factory=list)
    connections: list[PlannedConnection] = field(default_factory=list)
    projects: list[tuple[str, str, str]] = field(default_factory=list)  # (name, business unit, application)
    missing_secrets: dict[str, list[str]] = field(default_factory=dict)
    required_secrets: dict[str, list[str]] = field(default_factory=dict)
    secrets_in_file: list[str] = field(default_factory=list)  # "connector 'X': alm_pass" (values not kept)
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Export


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
    with config.store.session() as s:
        flags = {c.id: c.inaccessible for c in s.scalars(select(Connection))}
        projects = {p.name: (p.business_unit, p.application) for p in s.scalars(select(Project))}
    out_connectors = []
    for info in config.connectors():
        if connectors is not None and info.name not in connectors:
            continue
        system = config.registry.get(info.system)
        held = [k for k in info.secret_fields if config.secrets.get(info.uid, k)]
        out_connectors.append({"id": info.id, "name": info.name, "system": _system_ref(system),
                               "inaccessible": info.inaccessible,
                               "params": _public_params(system.connector_fields, info.params),
                               "network": dict(info.network), "secrets_omitted": held})
    results = []
    for conn in config.connections():
        if connections is not None and conn.alias not in connections:
            continue
        system = config.registry.get(conn.system)
        bu, app = projects.get(conn.project, ("", ""))
        params = _public_params(connection_fields(system), conn.params)
        params.update({"sde_businessunit": bu, "sde_application": app, "sde_project": conn.project})
        results.append({"id": conn.id, "alias": conn.alias, "system": _system_ref(system),
                        "frequency": conn.frequency, "command": f"sync_{conn.system}", "debug_mode": conn.debug_mode,
                        "params": params, "inaccessible": flags.get(conn.id, False), "in_progress": conn.in_progress,
                        "connector": conn.connector, "project": conn.project})
    return {"format": "almdesk-alm-export", "version": EXPORT_FORMAT,
            "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            "secrets": "omitted: the importer asks for them", "results": results, "connectors": out_connectors}


# ------------------------------------------------------------------------------------------------
# Reading the file


def _load(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a document into (connectors, connections); raise ConfigError for anything else."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.", "Check the file name and permissions.",
                          field="file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file.", "Export the file again as JSON.",
                          field="file") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                          "Fix the JSON there (a missing comma or quote is typical) or export the file again.",
                          field="file") from None
    items: list[Any]
    connectors: list[Any] = []
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and ("results" in doc or "connectors" in doc):
        items = doc.get("results") or []
        connectors = doc.get("connectors") or []
    elif isinstance(doc, dict):
        items = [doc]
    else:
        items = []
    if not isinstance(items, list) or not isinstance(connectors, list):
        raise ConfigError(f"{path}: \"results\" and \"connectors\" must be lists.", _SHAPE_HINT, field="file")
    out_connectors: list[dict[str, Any]] = []
    out_connections: list[dict[str, Any]] = []
    for where, group in (("results", items), ("connectors", connectors)):
        for i, item in enumerate(group):
            if not isinstance(item, dict):
                raise ConfigError(f"{path}: {where}[{i}] is not a JSON object.", _SHAPE_HINT, field="file")
            if "alias" in item:
                out_connections.append(item)
            elif "name" in item:
                out_connectors.append(item)
            else:
                raise ConfigError(f"{path}: {where}[{i}] has neither \"alias\" (a connection) nor \"name\" "
                                  "(a connector).", _SHAPE_HINT, field="file")
    if not out_connectors and not out_connections:
        raise ConfigError(f"{path} holds no connectors or connections.", _SHAPE_HINT, field="file")
    return out_connectors, out_connections


_SHAPE_HINT = ('Use a file written by "almdesk export", or SD Elements\' {"results": [...]} from '
               "GET /api/v2/connectors/alm/ or /api/v2/connections/alm/.")


def _system_name(config: Config, raw: Any) -> str:
    sid = raw.get("id") if isinstance(raw, dict) else raw
    sid = str(sid or "").strip().lower().replace("-", "_").replace(" ", "_")
    for name in config.registry.names():
        if sid == name or sid in SYSTEM_MAPS.get(name, FALLBACK_MAP).sde_ids:
            return name
    raise ConfigError(f"unknown system {sid or '(none)'!r}.",
                      f"Use one of: {', '.join(config.registry.names())}.", field="system")


def _build_url(raw: Mapping[str, Any], smap: SystemMap) -> str:
    server = str(raw.get("alm_server") or "").strip().rstrip("/")
    if not server:
        return ""
    if "://" not in server:
        server = f"{str(raw.get('alm_method') or 'https').strip().lower()}://{server}"
    root = str(raw.get("alm_context_root") or "").strip().strip("/")
    url = f"{server}/{root}" if root else server
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    if smap.enterprise_suffix and host != smap.default_host and "/api/" not in url + "/":
        url += smap.enterprise_suffix
    return url


def _first(names: tuple[str, ...], fields: Mapping[str, Field], secret: bool | None = None) -> str | None:
    for name in names:
        fld = fields.get(name)
        if fld is not None and (secret is None or (fld.kind is FieldKind.SECRET) == secret):
            return name
    return None


class _Collector:
    """Errors of the whole file, each naming its item and field."""

    def __init__(self) -> None:
        self.errors: dict[str, ConfigError] = {}
        self.failed: set[str] = set()  # connectors (names and file ids) already reported as unusable

    def add(self, item: str, exc: ConfigError, key: str | None = None) -> None:
        fld = key or exc.field or "file"
        label = item[:1].upper() + item[1:] + (f", {fld}: " if fld not in ("file", "") else ": ")
        self.errors[f"{item} › {fld}"] = ConfigError(label + exc.message, exc.hint, field=fld)

    def add_fields(self, item: str, exc: ConfigError, source: Mapping[str, str]) -> None:
        sub = exc.errors if isinstance(exc, FieldErrors) else {exc.field or "file": exc}
        for key, err in sub.items():
            src = source.get(key)
            hint = err.hint + (f" (file key {src!r})" if src and src != key else "")
            self.add(item, ConfigError(err.message, hint.strip(), field=key), key)


# ------------------------------------------------------------------------------------------------
# Planning


def _plan_connector(config: Config, raw: dict[str, Any], plan: ImportPlan, errors: _Collector) -> None:
    name = str(raw.get("name") or "").strip()
    item = f"connector {name!r}"
    try:
        system_name = _system_name(config, raw.get("system"))
    except ConfigError as exc:
        errors.add(item, exc, "system")
        errors.failed.update({name, f"#{raw.get('id')}"})
        return
    system = config.registry.get(system_name)
    smap = SYSTEM_MAPS.get(system_name, FALLBACK_MAP)
    fields = {f.name: f for f in system.connector_fields}
    conn_fields = {f.name: f for f in connection_fields(system)}
    file_params = raw.get("params") or {}
    if not isinstance(file_params, dict):
        errors.add(item, ConfigError("params must be a JSON object.", _SHAPE_HINT), "params")
        return
    params: dict[str, Any] = {}
    source: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    wanted: list[str] = []
    unknown: list[str] = []
    network = dict(raw.get("network") or {}) if isinstance(raw.get("network"), dict) else {}
    url_field = _first(smap.url_fields, fields, secret=False)
    if "alm_server" in file_params and url_field and url_field not in file_params:
        params[url_field], source[url_field] = _build_url(file_params, smap), "alm_server"
    for key, value in file_params.items():
        target: str | None
        if key in URL_KEYS and url_field and url_field not in file_params:
            continue
        if key == "alm_validate_cert":
            network.setdefault("verify", value)
        elif key in SECRET_KEYS or (key in fields and fields[key].kind is FieldKind.SECRET):
            target = key if key in fields else _first(smap.secrets.get(key, ()), fields, secret=True)
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
        elif (target := _first(smap.renames.get(key, ()), fields)) is not None:
            params[target], source[target] = value, key
        elif key in RENAMES_ALL or key in conn_fields:
            defaults[_renamed(str(key))] = value
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
    wanted += [str(k) for k in omitted if k in secret_names] if isinstance(omitted, list) else []
    required = [n for n in secret_names if fields[n].required]
    asked = [n for n in secret_names if n in required or n in wanted]
    net_raw = {k: v for k, v in network.items() if k in {f.name for f in NETWORK_FIELDS}}
    try:
        config.validate_connector(system_name, params, {k: _PLACEHOLDER for k in asked}, net_raw)
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


def _plan_connection(config: Config, raw: dict[str, Any], plan: ImportPlan, errors: _Collector,
                     known_projects: set[str]) -> None:
    alias = str(raw.get("alias") or "").strip()
    item = f"connection {alias!r}"
    file_params = raw.get("params") or {}
    if not isinstance(file_params, dict):
        errors.add(item, ConfigError("params must be a JSON object.", _SHAPE_HINT), "params")
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
            named = _system_name(config, raw.get("system"))
        except ConfigError as exc:
            errors.add(item, exc, "system")
            return
        if named != system_name:
            errors.add(item, ConfigError(f"it is a {named} connection but connector {connector!r} is {system_name}.",
                                         "Point \"connector\" at a connector of the same system.",
                                         field="connector"))
            return
    system = config.registry.get(system_name)
    smap = SYSTEM_MAPS.get(system_name, FALLBACK_MAP)
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
            params[_renamed(str(key))] = value
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
        title = str(parsed.get("alm_title_format") or "")
        if "$task_id" not in title or "$title" not in title:
            errors.add(item, ConfigError("the title format must contain $task_id and $title.",
                                         "For example: $task_id $title"), "alm_title_format")
    except ConfigError as exc:
        errors.add_fields(item, exc, {"alm_title_format": "title_format"})
    plan.connections.append(PlannedConnection(alias, connector, str(project or ""), params, frequency,
                                              bool(raw.get("debug_mode"))))


def _duplicates(names: list[str], kind: str, existing: set[str], errors: _Collector, key: str) -> None:
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
    raw_connectors, raw_connections = _load(Path(path))
    plan = ImportPlan(str(path))
    errors = _Collector()
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


# ------------------------------------------------------------------------------------------------
# Applying


def _check_secrets(plan: ImportPlan, secrets: Mapping[str, Mapping[str, str]]) -> None:
    errors = _Collector()
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
                errors.add(f"connector {name!r}", ConfigError(f"the secret {key} is required.",
                                                              "Enter it when the import asks for it."), key)
    if errors.errors:
        raise FieldErrors(errors.errors)


def apply_import(config: Config, plan: ImportPlan, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Write the plan: projects, connectors (secrets to the keyring), connections. All or nothing."""
    _check_secrets(plan, secrets)
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
