"""The services the GUI and the CLI share, built once by the composition root.

:meth:`Services.open` wires paths, logging, the store, the keyring and the systems registry; nothing
else in almdesk creates them, and nothing keeps them in a global.
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from almdesk.base.records import DefectRequest, GateRequest, Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.config import Config, connection_fields
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext, JobEvent
from almdesk.jobs.record import JobResult, JobSpec, recover_interrupted, run_recorded
from almdesk.models import Store
from almdesk.net.redact import Redaction
from almdesk.net.session import HttpFactory
from almdesk.net.trace import TraceRecorder
from almdesk.paths import Paths
from almdesk.secrets import SecretStore, open_secret_store
from almdesk.services.actions import defect_job, gate_job, recorded_defects, test_job
from almdesk.sources import ProjectSource, refresh_job, source_of, with_refresh
from almdesk.systems.registry import Registry

if TYPE_CHECKING:
    from almdesk.systems.sdelements.client import SdeClient


def setup_logging(paths: Paths, *, verbose: bool = False) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_almdesk", False) for h in root.handlers):
        return
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=2_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._almdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("urllib3", "alembic", "keyring"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def connector_names(store: Store) -> Callable[[str], str | None]:
    """uid → the connector's current name, read from ``store`` (the env secret store's variable names)."""
    from sqlalchemy import select

    from almdesk.models import Connector

    def name(uid: str) -> str | None:
        with store.session() as s:
            return s.scalar(select(Connector.name).where(Connector.uid == uid))

    return name


@dataclass
class Services:
    paths: Paths
    store: Store
    secrets: SecretStore
    registry: Registry
    config: Config = field(init=False)

    def __post_init__(self) -> None:
        self.config = Config(self.store, self.secrets, self.registry)

    @classmethod
    def open(cls, data_dir: str | Path | None = None, *, registry: Registry | None = None,
             secrets: SecretStore | None = None) -> Services:
        paths = Paths.resolve(data_dir)
        setup_logging(paths)
        store = Store(paths.database)
        recovered = recover_interrupted(store)
        if recovered:
            logging.getLogger(__name__).warning("%d job(s) were interrupted by a crash or kill", recovered)
        return cls(paths, store, secrets or open_secret_store(connector_names(store)),
                   registry or Registry.default())

    def http_for(self, connector: ConnectorSettings, *, trace: bool = False, job_hint: str = "job") -> HttpFactory:
        recorder = None
        if trace:
            name = f"{job_hint}-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 1_000_000}.jsonl"
            system = self.registry.get(connector.system)
            rules = Redaction(system.secret_names, system.secret_query_keys)
            recorder = TraceRecorder(self.paths.traces / name, connector.secrets.values(), rules)
        return HttpFactory(connector.network, trace=recorder)

    def run(self, spec: JobSpec, ctx: JobContext | None = None,
            on_event: Callable[[JobEvent], None] | None = None) -> JobResult:
        result = run_recorded(self.store, spec, ctx, on_event)
        from almdesk.remote.reports import (
            after_job,  # a mirrored connection's run goes to the server's history
        )

        after_job(self.store, result.job_id, self.sde_client)
        return result

    def sde_client(self, connector: str | int) -> SdeClient:
        """A client for SD Elements connector ``connector`` (name or id); the caller closes it."""
        from almdesk.systems.sdelements.client import SdeClient

        settings = self.config.connector_settings(connector)
        return SdeClient(settings, self.http_for(settings))

    # --- job specs shared by the GUI and the CLI ------------------------------------------------
    # Each takes a stored connector / connection by name or id, or settings as given (a form's current
    # values: Config.draft_connector / draft_connection), which it runs without saving anything.
    def _connector(self, ref: str | int | ConnectorSettings) -> ConnectorSettings:
        return ref if isinstance(ref, ConnectorSettings) else self.config.connector_settings(ref)

    def _connection(self, ref: str | int | ConnectionSettings) -> ConnectionSettings:
        return ref if isinstance(ref, ConnectionSettings) else self.config.connection_settings(ref)

    def _target(self, connection: str | int | ConnectionSettings | None,
                connector: str | int | ConnectorSettings | None) -> ConnectionSettings:
        """A connection's settings, or an ad-hoc one for a connector + workspace (gate, defect)."""
        if connection is not None:
            return self._connection(connection)
        if connector is None:
            raise ConfigError("Name a connection, or a connector and a workspace.",
                              "Use --connection ALIAS, or --connector NAME --workspace ID.", field="connection")
        settings = self._connector(connector)
        system = self.registry.get(settings.system)
        params = {f.name: f.default for f in connection_fields(system)}
        return ConnectionSettings(f"{settings.name} (ad hoc)", settings, params)

    def test_spec(self, *, connector: str | int | ConnectorSettings | None = None,
                  connection: str | int | ConnectionSettings | None = None) -> JobSpec:
        """Test Connection of a connector, or of a connection (its connector's steps, then its own)."""
        target = self._target(connection, connector)
        conn = target if connection is not None else None
        system = self.registry.get(target.connector.system)
        http = self.http_for(target.connector, trace=bool(conn and conn.debug), job_hint="test")
        what = f"connection {conn.alias}" if conn else f"connector {target.connector.name}"
        from almdesk.sync.identity import identity_step

        extra = [identity_step(self.store, system, conn)] if conn else []
        steps = None
        source = source_of(self.store, conn.project) if conn and conn.project else None
        if conn is not None and source is not None:  # its tasks come from SD Elements: check that side too
            sde = self.config.connector_settings(source.connector)
            sde_system = self.registry.get(sde.system)
            project_steps = sde_system.project_test_steps(sde, source.server_project, self.http_for(sde))
            steps = [*system.test_steps(target.connector, conn, http),
                     *(Step(f"sde-{s.key}", f"SD Elements: {s.title}", s.run) for s in project_steps)]
        return JobSpec("test-connection" if conn else "test-connector", f"Test {what}",
                       test_job(system, target.connector, conn, http, extra, steps=steps), target.connector.id,
                       target.id, trace_path=_trace_path(http))

    def gate_spec(self, request: GateRequest, *, connection: str | int | ConnectionSettings | None = None,
                  connector: str | int | ConnectorSettings | None = None) -> JobSpec:
        target = self._target(connection, connector)
        system = self.registry.get(target.connector.system)
        http = self.http_for(target.connector, trace=target.debug, job_hint="gate")
        return JobSpec("gate", f"Gate on {target.alias}: release {request.release or '(any)'}",
                       gate_job(system, target, request, http), target.connector.id, target.id,
                       trace_path=_trace_path(http))

    def defect_spec(self, request: DefectRequest, *, connection: str | int | ConnectionSettings | None = None,
                    connector: str | int | ConnectorSettings | None = None, idempotency_key: str = "") -> JobSpec:
        target = self._target(connection, connector)
        system = self.registry.get(target.connector.system)
        http = self.http_for(target.connector, trace=target.debug, job_hint="defect")
        return JobSpec("defect", f"Create {system.item_noun} on {target.alias}: {request.name}",
                       defect_job(system, target, request, http, idempotency_key=idempotency_key,
                                  recorded=recorded_defects(self.store)), target.connector.id, target.id,
                       trace_path=_trace_path(http))

    def sync_spec(self, connection: str | int | ConnectionSettings, *, dry_run: bool = False,
                  automatic: bool = False) -> JobSpec:
        """The sync (or dry run) of a connection; settings as given need its id (a saved connection)."""
        from almdesk.sync import sync_job

        target = self._connection(connection)
        system = self.registry.get(target.connector.system)
        http = self.http_for(target.connector, trace=target.debug, job_hint="sync")
        kind = "dry-run" if dry_run else "sync"
        fn = sync_job(self.store, target, system, http, dry_run=dry_run)
        source = source_of(self.store, target.project) if target.project else None
        if source is not None:  # a project bound to SD Elements: pull its tasks first
            sde = self.config.connector_settings(source.connector)
            fn = with_refresh(fn, self.store, source, sde, self.http_for(sde), target, system, dry_run=dry_run)
        return JobSpec(kind, f"{'Dry run' if dry_run else 'Sync'} {target.alias}", fn, target.connector.id,
                       target.id, automatic=automatic, trace_path=_trace_path(http))

    def project_source(self, project: str) -> ProjectSource:
        self.config.project_id(project)  # a clear error for an unknown name
        source = source_of(self.store, project)
        if source is None:
            raise ConfigError(f"Project {project!r} is not bound to an SD Elements project.",
                              "Bind it: almdesk project add NAME --source CONNECTOR --sde-project ID (its tasks "
                              "then come from the server), or import its tasks from a file.", field="project")
        return source

    def refresh_spec(self, project: str) -> JobSpec:
        """Pull a bound project's tasks from its SD Elements project."""
        source = self.project_source(project)
        sde = self.config.connector_settings(source.connector)
        cid = sde.id
        return JobSpec("refresh", f"Refresh {source.project} from SD Elements",
                       refresh_job(self.store, source, sde, self.http_for(sde)), cid)

    def project_test_spec(self, project: str) -> JobSpec:
        """Test Connection of a bound project: the connector's steps, then project found and permissions."""
        source = self.project_source(project)
        sde = self.config.connector_settings(source.connector)
        system = self.registry.get(sde.system)
        http = self.http_for(sde)
        steps = getattr(system, "project_test_steps")(sde, source.server_project, http)  # noqa: B009
        return JobSpec("test-connector", f"Test project {source.project} on {sde.name}",
                       test_job(system, sde, None, http, steps=steps), sde.id)

    def close(self) -> None:
        self.store.close()


def _trace_path(http: HttpFactory) -> str:
    return str(http.trace.path) if http.trace else ""
