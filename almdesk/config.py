"""Configuration services shared by the GUI and the CLI: connectors, connections, projects.

Every save validates everything first and writes nothing on error; secrets go to the keyring,
the rest to the store. Values cross the boundary as plain dicts and ids, never ORM objects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from almdesk.base.fields import Field, FieldErrors, FieldKind, parse_fields
from almdesk.base.settings import ConnectionSettings, ConnectorSettings, NetworkSettings
from almdesk.errors import ConfigError
from almdesk.models import Connection, Connector, Job, Project, Store, Task
from almdesk.secrets import SecretStore
from almdesk.systems.base import System
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.registry import Registry

FREQUENCIES = ("manually", "hourly", "daily", "weekly", "monthly")

NETWORK_FIELDS: tuple[Field, ...] = (
    Field("proxy_mode", "Proxy", FieldKind.CHOICE, default="system", choices=("system", "explicit", "none"),
          choice_labels=("System settings", "This proxy", "No proxy"),
          section="Network", help="system: use the environment's proxy settings; explicit: the URL below."),
    Field("proxy_url", "Proxy URL", FieldKind.TEXT, default="", section="Network",
          placeholder="http://proxy.example.com:3128", help="Used when Proxy is explicit."),
    Field("proxy_user", "Proxy user", FieldKind.TEXT, default="", section="Network",
          help="For a proxy that asks for a user name and password."),
    Field("proxy_password", "Proxy password", FieldKind.SECRET, section="Network",
          help="Kept in the keyring, like the connector's other secrets."),
    Field("no_proxy", "No proxy for", FieldKind.TEXT, default="", section="Network",
          help="Comma-separated host names reached directly (host names only, no http://)."),
    Field("ca_bundle", "CA bundle", FieldKind.TEXT, default="", section="Network",
          help="A PEM file with extra CA certificates to trust for this connector."),
    Field("verify", "Validate certificates", FieldKind.BOOL, default=True, section="Network",
          help="Turn off only for a server you trust on a network you trust."),
    Field("timeout", "Timeout (seconds)", FieldKind.INT, default=30, minimum=1, maximum=600, section="Network"),
    Field("max_answer_mb", "Largest answer (MB)", FieldKind.INT, default=64, minimum=1, maximum=2048, section="Network",
          help="almdesk stops reading an answer larger than this (after decompression) and says so."),
    Field("request_deadline", "Longest request (seconds)", FieldKind.INT, default=300, minimum=5, maximum=3600,
          section="Network", help="A request still answering after this long (a slow drip) is stopped."),
)


PROXY_PASSWORD = "proxy_password"


def secret_fields(system: System) -> list[str]:
    """The keyring entries of a connector: the system's secret fields and the proxy password."""
    return [*(f.name for f in system.connector_fields if f.kind is FieldKind.SECRET), PROXY_PASSWORD]


def with_credentials(proxy_url: str, user: str, password: str) -> str:
    """The proxy URL with ``user:password@`` for the session (never stored this way)."""
    parts = urlsplit(proxy_url)
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def _with_proxy(settings: ConnectorSettings) -> ConnectorSettings:
    """``settings`` with the proxy user and password put into the proxy URL for the session."""
    network, password = settings.network, settings.secrets.get(PROXY_PASSWORD, "")
    if network.proxy_url and (network.proxy_user or password):
        network.proxy_url = with_credentials(network.proxy_url, network.proxy_user, password)
    return settings


def connection_fields(system: System) -> tuple[Field, ...]:
    return (*system.connection_fields, *COMMON_CONNECTION_FIELDS)


def parse_network(raw: dict[str, Any]) -> NetworkSettings:
    values = parse_fields(NETWORK_FIELDS, {k: v for k, v in raw.items() if k in {f.name for f in NETWORK_FIELDS}})
    errors: dict[str, ConfigError] = {}
    if values["proxy_mode"] == "explicit":
        from almdesk.base.fields import check_url

        try:
            values["proxy_url"] = check_url(values["proxy_url"] or "", NETWORK_FIELDS[1])
        except ConfigError as exc:
            errors["proxy_url"] = exc
    if "@" in urlsplit(values["proxy_url"] or "").netloc:
        errors["proxy_url"] = ConfigError("Proxy URL must not contain a user name or password.",
                                          "Put them in Proxy user and Proxy password (kept in the keyring).",
                                          field="proxy_url")
    if any(p.strip().startswith(("http://", "https://")) for p in (values["no_proxy"] or "").split(",")):
        errors["no_proxy"] = ConfigError("No proxy for must list host names only.",
                                         "Remove the http:// prefix from each entry.", field="no_proxy")
    if values["ca_bundle"]:
        from pathlib import Path

        if not Path(values["ca_bundle"]).expanduser().is_file():
            errors["ca_bundle"] = ConfigError(f"CA bundle {values['ca_bundle']} does not exist.",
                                              "Choose a PEM file, or clear the field.", field="ca_bundle")
    if errors:
        raise FieldErrors(errors)
    values["timeout"] = float(values["timeout"])
    return NetworkSettings.from_dict(values)


@dataclass
class ConnectorInfo:
    id: int
    uid: str
    name: str
    system: str
    params: dict[str, Any]
    network: dict[str, Any]
    inaccessible: bool
    secret_fields: list[str]
    connections: list[str]


@dataclass
class ConnectionInfo:
    id: int
    alias: str
    connector: str
    system: str
    project: str
    frequency: str
    debug_mode: bool
    params: dict[str, Any]
    in_progress: bool
    last_job_id: int | None


class Config:
    """CRUD over connectors, connections and projects, with secrets in the keyring."""

    def __init__(self, store: Store, secrets: SecretStore, registry: Registry) -> None:
        self.store = store
        self.secrets = secrets
        self.registry = registry

    # --- connectors -------------------------------------------------------------------------
    def validate_connector(self, system_name: str, params: dict[str, Any], secrets: dict[str, str],
                           network: dict[str, Any] | None = None, *, existing_uid: str | None = None,
                           name: str = "") -> tuple[dict[str, Any], NetworkSettings]:
        """Parse and check all fields; raise FieldErrors naming every bad one. A required secret may
        also be held already: in the keyring under ``existing_uid``, or (headless) in the environment
        under the connector's ``name``."""
        system = self.registry.get(system_name)
        errors: dict[str, ConfigError] = {}
        parsed: dict[str, Any] = {}
        try:
            parsed = parse_fields(system.connector_fields, params)
        except FieldErrors as exc:
            errors.update(exc.errors)
        for f in system.connector_fields:
            if f.kind is FieldKind.SECRET and f.required and not secrets.get(f.name):
                have = (existing_uid and self.secrets.get(existing_uid, f.name)) or (
                    name and self.secrets.by_name(name, f.name))
                if not have:
                    errors[f.name] = ConfigError(f"{f.label} is required.",
                                                 self.secrets.missing_hint(name, f.name, f.label), field=f.name)
        unknown = set(secrets) - set(secret_fields(system))
        for key in unknown:
            errors[key] = ConfigError(f"{key!r} is not a secret field of {system.label}.", "Check the name.",
                                      field=key)
        if not errors:
            try:
                parsed = system.check_connector(parsed)
            except FieldErrors as exc:
                errors.update(exc.errors)
            except ConfigError as exc:
                errors[exc.field or "params"] = exc
        net = NetworkSettings()
        try:
            net = parse_network(network or {})
        except FieldErrors as exc:
            errors.update(exc.errors)
        if errors:
            raise FieldErrors(errors)
        return parsed, net

    def save_connector(self, name: str, system_name: str, params: dict[str, Any], secrets: dict[str, str],
                       network: dict[str, Any] | None = None, *, connector_id: int | None = None) -> int:
        name = name.strip()
        if not name:
            raise ConfigError("Name is required.", "Give the connector a name you will recognise.", field="name")
        with self.store.session() as s:
            row = s.get(Connector, connector_id) if connector_id else None
            if connector_id and row is None:
                raise ConfigError(f"Connector {connector_id} no longer exists.", "Reload the list.")
            clash = s.scalar(select(Connector).where(Connector.name == name))
            if clash is not None and (row is None or clash.id != row.id):
                raise ConfigError(f"A connector named {name!r} already exists.", "Choose another name.",
                                  field="name")
            uid = row.uid if row else str(uuid.uuid4())
            if row is not None and row.system != system_name:
                raise ConfigError("The system of a connector cannot change.", "Create a new connector instead.",
                                  field="system")
        parsed, net = self.validate_connector(system_name, params, secrets, network,
                                              existing_uid=uid if connector_id else None, name=name)
        written: list[str] = []
        try:
            for key, value in secrets.items():
                if value:
                    self.secrets.set(uid, key, value)
                    written.append(key)
            with self.store.session() as s:
                row = s.get(Connector, connector_id) if connector_id else None
                if row is None:
                    row = Connector(uid=uid, name=name, system=system_name)
                    s.add(row)
                row.name = name
                row.params = parsed
                row.network = net.to_dict()
                s.flush()
                return row.id
        except Exception:
            if not connector_id:
                for key in written:
                    self.secrets.delete(uid, key)
            raise

    def _connector_row(self, s: Session, ref: str | int) -> Connector:
        row = s.get(Connector, ref) if isinstance(ref, int) else s.scalar(
            select(Connector).where(Connector.name == ref))
        if row is None:
            names = s.scalars(select(Connector.name).order_by(Connector.name)).all()
            raise ConfigError(f"No connector named {ref!r}.",
                              f"Known connectors: {', '.join(names)}." if names else "Add one first.",
                              field="connector")
        return row

    def _connector_info(self, row: Connector, aliases: list[str] | None = None) -> ConnectorInfo:
        return ConnectorInfo(row.id, row.uid, row.name, row.system, dict(row.params), dict(row.network),
                             row.inaccessible, secret_fields(self.registry.get(row.system)),
                             [c.alias for c in row.connections] if aliases is None else aliases)

    def connector(self, ref: str | int) -> ConnectorInfo:
        with self.store.session() as s:
            row = self._connector_row(s, ref)
            aliases = list(s.scalars(select(Connection.alias).where(Connection.connector_id == row.id)
                                     .order_by(Connection.id)))
            return self._connector_info(row, aliases)

    def connectors(self) -> list[ConnectorInfo]:
        """All connectors by name, with their connections' aliases: two queries, no connection objects."""
        with self.store.session() as s:
            aliases: dict[int, list[str]] = {}
            for connector_id, alias in s.execute(select(Connection.connector_id, Connection.alias)
                                                 .order_by(Connection.id)):
                aliases.setdefault(connector_id, []).append(alias)
            rows = s.scalars(select(Connector).order_by(Connector.name)).all()
            return [self._connector_info(row, aliases.get(row.id, [])) for row in rows if row.system in self.registry]

    def delete_connector(self, ref: str | int) -> None:
        info = self.connector(ref)
        if info.connections:
            raise ConfigError(f"Connector {info.name!r} is used by connection(s) {', '.join(info.connections)}.",
                              "Delete or move those connections first.")
        with self.store.session() as s:
            s.delete(self._connector_row(s, info.id))
        for key in info.secret_fields:
            self.secrets.delete(info.uid, key)

    def connector_settings(self, ref: str | int) -> ConnectorSettings:
        """The stored connector ``ref`` (name or id) with its secrets from the keyring."""
        info = self.connector(ref)
        secrets = {k: v for k in info.secret_fields if (v := self.secrets.get(info.uid, k))}
        return _with_proxy(ConnectorSettings(info.name, info.system, info.params, secrets,
                                             NetworkSettings.from_dict(info.network), uid=info.uid, id=info.id))

    def stored_secrets(self, info: ConnectorInfo) -> list[str]:
        """The secret fields of ``info`` the keyring holds (their names only)."""
        return [k for k in info.secret_fields if self.secrets.get(info.uid, k)]

    def draft_connector(self, connector_id: int | None, system_name: str, params: dict[str, Any],
                        typed_secrets: dict[str, str], network: dict[str, Any] | None = None, *,
                        name: str = "") -> ConnectorSettings:
        """The settings of a connector as given (e.g. a form's current values), validated like a save;
        a secret left blank is read from the keyring entry of the stored connector ``connector_id``.
        Writes nothing: not the store, not the keyring. Raises FieldErrors like :meth:`save_connector`."""
        info = self.connector(connector_id) if connector_id is not None else None
        if info is not None and info.system != system_name:
            raise ConfigError("The system of a connector cannot change.", "Create a new connector instead.",
                              field="system")
        name = name.strip() or (info.name if info else "")
        typed = {k: v for k, v in typed_secrets.items() if v}
        parsed, net = self.validate_connector(system_name, params, typed, network,
                                              existing_uid=info.uid if info else None, name=name)
        secrets: dict[str, str] = {}
        for key in secret_fields(self.registry.get(system_name)):
            value = typed.get(key) or (self.secrets.get(info.uid, key) if info else "") or (
                self.secrets.by_name(name, key) if name else "")
            if value:
                secrets[key] = value
        return _with_proxy(ConnectorSettings(name or "(unsaved connector)", system_name, parsed, secrets, net,
                                             uid=info.uid if info else "", id=info.id if info else None))

    # --- projects ---------------------------------------------------------------------------
    def add_project(self, name: str, business_unit: str = "", application: str = "") -> int:
        name = name.strip()
        if not name:
            raise ConfigError("Project name is required.", "Enter a name.", field="name")
        with self.store.session() as s:
            if s.scalar(select(Project).where(Project.name == name)):
                raise ConfigError(f"A project named {name!r} already exists.", "Choose another name.", field="name")
            row = Project(name=name, business_unit=business_unit.strip(), application=application.strip())
            s.add(row)
            s.flush()
            return row.id

    def projects(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            counts = dict(s.execute(select(Task.project_id, func.count()).group_by(Task.project_id)).all())
            sources = dict(s.execute(select(Connector.id, Connector.name)).all())
            return [{"id": p.id, "name": p.name, "business_unit": p.business_unit, "application": p.application,
                     "tasks": counts.get(p.id, 0), "source": sources.get(p.source_connector_id or 0, ""),
                     "sde_project": p.source_project,
                     "last_refresh": p.last_refresh.isoformat() if p.last_refresh else None,
                     "refresh_counts": dict(p.refresh_counts or {})}
                    for p in s.scalars(select(Project).order_by(Project.name))]

    def project_id(self, name: str) -> int:
        with self.store.session() as s:
            pid = s.scalar(select(Project.id).where(Project.name == name))
            if pid is None:
                names = s.scalars(select(Project.name)).all()
                raise ConfigError(f"No project named {name!r}.",
                                  f"Known projects: {', '.join(names)}." if names else
                                  "Create it with 'almdesk project add'.", field="project")
            return pid

    # --- connections ------------------------------------------------------------------------
    def _check_connection(self, connector: ConnectorSettings, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` parsed and checked for a connection of ``connector``; FieldErrors naming every bad one."""
        system = self.registry.get(connector.system)
        errors: dict[str, ConfigError] = {}
        parsed: dict[str, Any] = {}
        try:
            parsed = system.check_connection(parse_fields(connection_fields(system), params), connector)
        except FieldErrors as exc:
            errors.update(exc.errors)
        except ConfigError as exc:
            errors[exc.field or "params"] = exc
        if parsed:  # the title format (${task_id} spellings too) and the $context it may need
            from almdesk.sync.titles import check_title_settings

            errors.update(check_title_settings(parsed))
        if errors:
            raise FieldErrors(errors)
        return parsed

    def save_connection(self, alias: str, connector: str | int, project: str, params: dict[str, Any], *,
                        frequency: str = "manually", debug_mode: bool = False,
                        connection_id: int | None = None) -> int:
        alias = alias.strip()
        errors: dict[str, ConfigError] = {}
        if not alias:
            errors["alias"] = ConfigError("Alias is required.", "Give the connection a short name.", field="alias")
        if frequency not in FREQUENCIES:
            errors["frequency"] = ConfigError(f"Frequency cannot be {frequency!r}.",
                                              f"Choose one of: {', '.join(FREQUENCIES)}.", field="frequency")
        info: ConnectorInfo | None = None
        try:
            info = self.connector(connector)
        except ConfigError as exc:
            errors["connector"] = exc
        project_id: int | None = None
        if project:
            try:
                project_id = self.project_id(project)
            except ConfigError as exc:
                errors["project"] = exc
        else:
            errors["project"] = ConfigError("Project is required.", "Choose the project whose tasks to sync.",
                                            field="project")
        parsed: dict[str, Any] = {}
        if info is not None:
            try:
                parsed = self._check_connection(self.connector_settings(info.id), params)
            except FieldErrors as exc:
                errors.update(exc.errors)
        if errors:
            raise FieldErrors(errors)
        assert info is not None
        with self.store.session() as s:
            clash = s.scalar(select(Connection).where(Connection.alias == alias))
            if clash is not None and clash.id != connection_id:
                raise ConfigError(f"A connection named {alias!r} already exists.", "Choose another alias.",
                                  field="alias")
            row = s.get(Connection, connection_id) if connection_id else None
            if row is None:
                row = Connection(alias=alias, connector_id=info.id)
                s.add(row)
            row.alias = alias
            row.connector_id = info.id
            row.project_id = project_id
            row.params = parsed
            row.frequency = frequency
            row.debug_mode = debug_mode
            s.flush()
            return row.id

    def _connection_row(self, s: Session, ref: str | int) -> Connection:
        row = s.get(Connection, ref) if isinstance(ref, int) else s.scalar(
            select(Connection).where(Connection.alias == ref))
        if row is None:
            names = s.scalars(select(Connection.alias).order_by(Connection.alias)).all()
            raise ConfigError(f"No connection named {ref!r}.",
                              f"Known connections: {', '.join(names)}." if names else "Add one first.",
                              field="connection")
        return row

    @staticmethod
    def _connection_info(row: Connection) -> ConnectionInfo:
        return ConnectionInfo(row.id, row.alias, row.connector.name, row.connector.system,
                              row.project.name if row.project else "", row.frequency, row.debug_mode,
                              dict(row.params), row.in_progress, row.last_job_id)

    def connection(self, ref: str | int) -> ConnectionInfo:
        with self.store.session() as s:
            return self._connection_info(self._connection_row(s, ref))

    def connections(self) -> list[ConnectionInfo]:
        """All connections by alias, in one query of plain columns (no ORM objects: 1,000 connections
        are read at start-up)."""
        c = Connection
        with self.store.session() as s:
            rows = s.execute(select(c.id, c.alias, Connector.name, Connector.system, Project.name, c.frequency,
                                    c.debug_mode, c.params, c.in_progress, c.last_job_id)
                             .join(Connector, c.connector_id == Connector.id)
                             .outerjoin(Project, c.project_id == Project.id)
                             .order_by(c.alias)).all()
        return [ConnectionInfo(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6], dict(r[7] or {}), r[8], r[9])
                for r in rows]

    def delete_connection(self, ref: str | int) -> None:
        with self.store.session() as s:
            row = self._connection_row(s, ref)
            s.execute(update(Job).where(Job.connection_id == row.id).values(connection_id=None))
            s.delete(row)

    def connection_settings(self, ref: str | int) -> ConnectionSettings:
        """The stored connection ``ref`` (alias or id), its connector's secrets from the keyring."""
        info = self.connection(ref)
        connector = self.connector_settings(info.connector)
        system = self.registry.get(info.system)
        params = {f.name: f.default for f in connection_fields(system)}
        params.update(info.params)
        bu, app = self._project_context(info.project)
        return ConnectionSettings(info.alias, connector, params, info.project, bu, app, info.debug_mode, info.id)

    def draft_connection(self, connection_id: int | None, connector: ConnectorSettings | str | int,
                         project: str, params: dict[str, Any], *, alias: str = "",
                         debug_mode: bool | None = None) -> ConnectionSettings:
        """The settings of a connection as given (e.g. a form's current values, over ``connector`` as
        given or as stored), checked like a save. Writes nothing. Raises FieldErrors."""
        info = self.connection(connection_id) if connection_id is not None else None
        settings = connector if isinstance(connector, ConnectorSettings) else self.connector_settings(connector)
        errors: dict[str, ConfigError] = {}
        if project:
            try:
                self.project_id(project)
            except ConfigError as exc:
                errors["project"] = exc
        parsed: dict[str, Any] = {}
        try:
            parsed = self._check_connection(settings, params)
        except FieldErrors as exc:
            errors.update(exc.errors)
        if errors:
            raise FieldErrors(errors)
        full = {f.name: f.default for f in connection_fields(self.registry.get(settings.system))}
        full.update(parsed)
        bu, app = self._project_context(project)
        alias = alias.strip() or (info.alias if info else "(unsaved connection)")
        debug = debug_mode if debug_mode is not None else bool(info and info.debug_mode)
        return ConnectionSettings(alias, settings, full, project, bu, app, debug, info.id if info else None)

    def _project_context(self, project: str) -> tuple[str, str]:
        """The business unit and application of project ``project`` ("" for none)."""
        if not project:
            return "", ""
        with self.store.session() as s:
            row = s.execute(select(Project.business_unit, Project.application)
                            .where(Project.name == project)).first()
        return (row[0] or "", row[1] or "") if row else ("", "")
