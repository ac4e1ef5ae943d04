"""A bound project syncing into Jira, for the write-back tests: an SD Elements sandbox and a Jira
sandbox on loopback, an SD Elements connector, a project bound to server project 1, a Jira
connector and connection, and a JIRA ALM connection on the server for that project.

``child`` runs one sync of the connection in a separate process (``tests.sdelements.sde_child``) so a
test can SIGKILL it at a chosen request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from almdesk import sandbox
from almdesk.base.records import RemoteItem
from almdesk.jobs.context import JobContext
from almdesk.jobs.record import JobResult
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import SdeApp, create
from almdesk.services import Services
from almdesk.sources import bind_project

ROOT = Path(__file__).resolve().parents[2]
ALIAS = "shop-jira"


@dataclass
class Bound:
    services: Services
    sde: SandboxServer
    jira: SandboxServer
    server_connection: int

    @property
    def app(self) -> SdeApp:
        app = self.sde.app
        assert isinstance(app, SdeApp)
        return app

    def sync(self, dry_run: bool = False) -> JobResult:
        return self.services.run(self.services.sync_spec(ALIAS, dry_run=dry_run))

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        token = self.sde.describe()["secrets"]["api_token"]
        return requests.request(method, f"{self.sde.url}/api/v2/{path}", headers={"Authorization": f"Token {token}"},
                                timeout=10, **kwargs)

    def references(self, server_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"projects/1/tasks/{server_id}/references/").json()["results"])

    def jira_items(self) -> list[RemoteItem]:
        settings = self.services.config.connection_settings(ALIAS)
        adapter = self.services.registry.get("jira").sync_adapter(settings, HttpFactory(), JobContext())
        adapter.prepare()
        try:
            return list(adapter.iter_items())
        finally:
            adapter.close()

    def set_jira_done(self, item: RemoteItem, done: bool = True) -> None:
        settings = self.services.config.connection_settings(ALIAS)
        adapter = self.services.registry.get("jira").sync_adapter(settings, HttpFactory(), JobContext())
        adapter.prepare()
        try:
            adapter.set_done(item, done)
        finally:
            adapter.close()

    def child(self) -> tuple[subprocess.Popen[str], str]:
        """Start one sync of the connection in a child process; returns it and the secrets to send on
        its stdin (``proc.communicate(secrets)``), never on its command line."""
        cfg = self.services.config
        secrets: dict[str, str] = {}
        for name in ("sde", "jira"):
            info = cfg.connector(name)
            settings = cfg.connector_settings(name)
            secrets.update({f"{info.uid}/{k}": v for k, v in settings.secrets.items()})
        proc = subprocess.Popen([sys.executable, "-m", "tests.sdelements.sde_child", str(self.services.paths.root),
                                 ALIAS], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        return proc, json.dumps(secrets)


@contextmanager
def bound(services: Services, *, tasks: int = 72, server_connection: bool = True) -> Iterator[Bound]:
    with serve(create(seed=4, tasks=tasks)) as sde, serve(sandbox.create("jira", seed=2, issues=0)) as jira:
        desc = sde.describe()
        services.config.save_connector("sde", "sdelements", desc["params"], desc["secrets"])
        pid = services.config.add_project("Shop", "General", "Demo Application")
        bind_project(services.store, services.registry, pid, "sde", 1)
        info = jira.describe()
        services.config.save_connector("jira", "jira", info["params"], info["secrets"])
        services.config.save_connection(ALIAS, "jira", "Shop", info["connection_params"])
        env = Bound(services, sde, jira, 0)
        if server_connection:
            made = env.api("POST", "connections/alm/", json={"alias": "Jira (almdesk)", "connector": 2, "project": 1,
                                                              "params": {"alm_project": "DEMO"}})
            assert made.status_code == 201, made.text
            env.server_connection = int(made.json()["id"])
        yield env
