"""Test harness for the sync engine: a store, connector and connections over any system's sandbox.

A :class:`Target` is a running sandbox (the toy ALM or a real system's) with the System object and
its ``describe()``; a :class:`SyncEnv` builds connectors/connections through ``Config`` exactly like
the app, runs syncs through ``run_recorded``, and inspects the ALM through a fresh adapter.
"""

from __future__ import annotations

import importlib
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring.backends.fail
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.config import Config
from almdesk.jobs.context import JobContext
from almdesk.jobs.record import JobResult, JobSpec, job_events, run_recorded
from almdesk.models import Connector, JobEventRow, Link, Store, Task
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import Faults, SandboxApp, SandboxServer, serve
from almdesk.secrets import SecretStore
from almdesk.sync import sync_job
from almdesk.sync.tasks_io import TaskRow, task_from_dict, upsert_tasks
from almdesk.sync.titles import TitleFormat
from almdesk.systems.base import System
from almdesk.systems.registry import SYSTEM_NAMES, Registry, is_alm_target
from tests.clock import ShiftedClock
from tests.sync.toyalm import ToyAlmApp, ToyAlmSystem

TITLE_FORMAT = "[$application] $task_id $title"
# Test-only connector settings: GitHub's write pacing (0.8 s a write, its own tests cover it) would
# make these tests slow without testing the engine.
CONNECTOR_OVERRIDES: dict[str, dict[str, Any]] = {"github": {"github_write_pace_ms": 0}}


def real_systems() -> list[str]:
    """Real systems whose package and sandbox are importable and that offer a sync adapter."""
    names = []
    for name in SYSTEM_NAMES:
        try:
            mod = importlib.import_module(f"almdesk.systems.{name}")
            importlib.import_module(f"almdesk.sandbox.{name}")
        except ModuleNotFoundError as exc:  # not written yet; any other import error is a failure
            if exc.name in (f"almdesk.systems.{name}", f"almdesk.sandbox.{name}"):
                continue
            raise
        system = getattr(mod, "SYSTEM", None)
        if system is not None and callable(getattr(system, "sync_adapter", None)) and is_alm_target(system):
            names.append(name)
    return names


def make_registry() -> Registry:
    return Registry.default(extra=[ToyAlmSystem()])


BULK_ENV = "ALMDESK_TEST_BULK"  # a bulk size for every real adapter (soaks of overlapped creates)
BULK_ADAPTERS = ("jira.sync:JiraSyncAdapter", "octane.sync:OctaneSyncAdapter", "rally.sync:RallySyncAdapter",
                 "github.sync:GitHubSyncAdapter")


def apply_bulk_override() -> int | None:
    """Set every real adapter's ``bulk_size`` to ``$ALMDESK_TEST_BULK`` when it is set (child processes of a
    soak inherit it): a sync of a few tasks then sends several chunks, overlapped up to each adapter's
    ``concurrency``. Returns the size, or None when the variable is unset."""
    value = os.environ.get(BULK_ENV, "").strip()
    if not value:
        return None
    size = max(1, int(value))
    for where in BULK_ADAPTERS:
        module, _, name = where.partition(":")
        try:
            cls = getattr(importlib.import_module(f"almdesk.systems.{module}"), name)
        except ModuleNotFoundError:
            continue
        cls.bulk_size = size
    return size


@dataclass
class Target:
    name: str
    app: SandboxApp
    server: SandboxServer
    system: System
    info: dict[str, Any]

    @classmethod
    def start(cls, name: str, registry: Registry, *, faults: Faults | None = None, seed: int = 0,
              ssl_context: Any = None, latency: float = 0.0, server_cost: float = 0.0, **options: Any) -> Target:
        """Start ``name``'s sandbox; ``latency``/``server_cost`` (seconds) are its latency model."""
        if name == "toyalm":
            app: SandboxApp = ToyAlmApp(seed)
        else:
            app = importlib.import_module(f"almdesk.sandbox.{name}").create(seed=seed, **options)
        server = serve(app, faults=faults, ssl_context=ssl_context, latency=latency, server_cost=server_cost)
        return cls(name, app, server, registry.get(name), server.describe())

    def stop(self) -> None:
        """Stop in the background: werkzeug's shutdown waits out a 0.5 s poll, per server."""
        threading.Thread(target=self.server.stop, daemon=True).start()


@dataclass
class SyncEnv:
    tmp: Path
    target: Target
    registry: Registry
    store: Store = field(init=False)
    config: Config = field(init=False)
    connector: str = field(init=False)
    clock: ShiftedClock = field(init=False)  # the syncs' ``now``: tests advance it instead of waiting

    def __post_init__(self) -> None:
        self.clock = ShiftedClock()
        self.store = Store(self.tmp / "almdesk.db")
        self.secrets = SecretStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]  # keyring: unannotated
        self.config = Config(self.store, self.secrets, self.registry)
        self.connector = f"{self.target.name}-connector"
        info = self.target.info
        params = {**info["params"], **CONNECTOR_OVERRIDES.get(self.target.name, {})}
        self.config.save_connector(self.connector, self.target.name, params, dict(info["secrets"]))

    # --- setup ----------------------------------------------------------------------------------
    def project(self, tasks: Iterable[dict[str, Any]] = (), name: str = "") -> str:
        name = name or f"proj-{uuid.uuid4().hex[:8]}"
        self.config.add_project(name, "BU", f"app-{name}")
        self.add_tasks(name, tasks)
        return name

    def add_tasks(self, project: str, tasks: Iterable[dict[str, Any]]) -> None:
        rows = [task_row(**t) for t in tasks]
        if rows:
            upsert_tasks(self.store, self.config.project_id(project), rows)

    def connection(self, project: str, alias: str = "", **params: Any) -> str:
        alias = alias or f"{project}-{self.target.name}"
        values = {**self.target.info["connection_params"], "alm_title_format": TITLE_FORMAT,
                  "sde_min_priority": 1, **params}
        self.config.save_connection(alias, self.connector, project, values)
        return alias

    def set_timeout(self, seconds: float) -> None:
        """The connector's network timeout (an unknown-fate create blocks re-creating for twice it)."""
        with self.store.session() as s:
            row = s.scalar(select(Connector).where(Connector.name == self.connector))
            assert row is not None
            row.network = {**(row.network or {}), "timeout": seconds}

    def settings(self, alias: str) -> ConnectionSettings:
        return self.config.connection_settings(alias)

    # --- running --------------------------------------------------------------------------------
    def sync(self, alias: str, *, dry_run: bool = False, ctx: JobContext | None = None,
             http: HttpFactory | None = None) -> JobResult:
        settings = self.settings(alias)
        http = http or HttpFactory(settings.connector.network)
        fn = sync_job(self.store, settings, self.target.system, http, dry_run=dry_run, now=self.clock)
        spec = JobSpec("dry-run" if dry_run else "sync", f"Sync {alias}", fn,
                       self.config.connector(self.connector).id, settings.id)
        return run_recorded(self.store, spec, ctx)

    def events(self, result: JobResult) -> list[JobEventRow]:
        return job_events(self.store, result.job_id)

    # --- inspecting and changing the ALM side ----------------------------------------------------
    def adapter(self, alias: str) -> Any:
        settings = self.settings(alias)
        adapter = self.target.system.sync_adapter(settings, HttpFactory(settings.connector.network), JobContext())
        adapter.prepare()
        return adapter

    def title_format(self, alias: str) -> TitleFormat:
        s = self.settings(alias)
        return TitleFormat.parse(str(s.params["alm_title_format"]), application=s.application, project=s.project)

    def alm_items(self, alias: str) -> dict[str, list[RemoteItem]]:
        """ALM items of the connection's target by the task id their title was made for."""
        fmt = self.title_format(alias)
        adapter = self.adapter(alias)
        try:
            out: dict[str, list[RemoteItem]] = {}
            for item in adapter.iter_items():
                tid = fmt.task_id_of(item.title)
                if tid is not None:
                    out.setdefault(tid, []).append(item)
            return out
        finally:
            adapter.close()

    def pre_create(self, alias: str, task_ids_titles: Sequence[tuple[str, str]], done: bool = False) -> list[RemoteItem]:
        """Make items in the ALM as if someone (or another tool) had, with this connection's titles."""
        fmt = self.title_format(alias)
        adapter = self.adapter(alias)
        try:
            drafts = [ItemDraft(tid, fmt.full(tid, title), "made outside almdesk", 8, [], done)
                      for tid, title in task_ids_titles]
            results = adapter.create_items(drafts)
            assert all(isinstance(r, RemoteItem) for r in results), results
            return [r for r in results if isinstance(r, RemoteItem)]
        finally:
            adapter.close()

    def set_alm_done(self, alias: str, item: RemoteItem, done: bool) -> RemoteItem:
        adapter = self.adapter(alias)
        try:
            new: RemoteItem = adapter.set_done(item, done)
            return new
        finally:
            adapter.close()

    # --- inspecting and changing the local side -------------------------------------------------
    def task(self, project: str, task_id: str) -> Task:
        with self.store.session() as s:
            row = s.scalar(select(Task).where(Task.project_id == self.config.project_id(project),
                                              Task.task_id == task_id))
            assert row is not None
            return row

    def set_task(self, project: str, task_id: str, **values: Any) -> None:
        with self.store.session() as s:
            row = s.scalar(select(Task).where(Task.project_id == self.config.project_id(project),
                                              Task.task_id == task_id))
            assert row is not None
            for k, v in values.items():
                setattr(row, k, v.astimezone(UTC) if isinstance(v, datetime) else v)

    def links(self, alias: str) -> dict[int, Link]:
        cid = self.config.connection(alias).id
        with self.store.session() as s:
            return {r.task_pk: r for r in s.scalars(select(Link).where(Link.connection_id == cid))}


Handler = Callable[[Request], Response]


def intercept(app: SandboxApp, hook: Callable[[Request, Handler], Response]) -> None:
    """Route every request of ``app`` through ``hook(request, original_dispatch)``."""
    original = app.dispatch

    def dispatch(request: Request) -> Response:
        return hook(request, original)

    app.dispatch = dispatch  # type: ignore[method-assign]


def is_write(request: Request) -> bool:
    """A request that changes ALM data (sign-in/out, token calls and POSTed searches are not counted)."""
    low = request.path.lower()
    return request.method in ("POST", "PUT", "PATCH", "DELETE") and not any(
        part in low for part in ("sign_in", "sign_out", "signin", "signout", "/auth", "login", "logout", "oauth",
                                 "search", "security/authorize"))


def task_row(task_id: str, title: str = "", **kw: Any) -> TaskRow:
    kw.setdefault("phase", "development")
    kw.setdefault("priority", 8)
    return task_from_dict({"task_id": task_id, "title": title or f"Task {task_id}", **kw})


def tasks(*ids: str, **kw: Any) -> list[dict[str, Any]]:
    return [{"task_id": i, **kw} for i in ids]
