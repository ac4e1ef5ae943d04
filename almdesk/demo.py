"""Demo mode: start the sandboxes in-process and wire one demo connector and connection per system.

The demo connectors are remembered in ``demo.json`` in the data directory; on the next start the
sandboxes come up on new ports and those connectors are pointed at them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from almdesk import sandbox
from almdesk.errors import ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.sandbox.base import SandboxServer
from almdesk.services import Services
from almdesk.systems.registry import is_alm_target

log = logging.getLogger(__name__)
DEMO_PROJECT = "Demo project"
DEMO_TASKS = 40


class Demo:
    """Owns the running sandboxes of demo mode (stopped with :meth:`stop`)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.servers: list[SandboxServer] = []
        self.file = services.paths.root / "demo.json"

    def known(self) -> dict[str, Any]:
        if not self.file.exists():
            return {}
        try:
            data: dict[str, Any] = json.loads(self.file.read_text(encoding="utf-8"))
            return data
        except ValueError:
            return {}

    def start(self, progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
        """Start every sandbox; create the demo setup if missing, else re-point it. Returns a summary."""
        known = self.known()
        systems = [s for s in sandbox.available() if s in self.services.registry]
        summary: dict[str, Any] = {}
        for i, name in enumerate(systems):
            if progress:
                progress(i, len(systems), f"Starting the {name} sandbox")
            server = sandbox.start([name])[0]
            self.servers.append(server)
            desc = server.describe()
            if is_alm_target(self.services.registry.get(name)):
                summary[name] = self._wire(name, desc, known.get(name))
            else:
                summary[name] = self._wire_source(name, desc, known.get(name))
        self.file.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        if progress:
            progress(len(systems), len(systems), "Sandboxes ready")
        return summary

    def _wire(self, name: str, desc: dict[str, Any], known: dict[str, Any] | None) -> dict[str, Any]:
        cfg = self.services.config
        system = self.services.registry.get(name)
        connector_name = (known or {}).get("connector") or f"Demo {system.label}"
        alias = (known or {}).get("connection") or f"demo-{name}"
        existing = {c.name: c for c in cfg.connectors()}
        info = existing.get(connector_name)
        cid = cfg.save_connector(connector_name, name, desc["params"], desc["secrets"],
                                 info.network if info else None, connector_id=info.id if info else None)
        if DEMO_PROJECT not in {p["name"] for p in cfg.projects()}:
            pid = cfg.add_project(DEMO_PROJECT, "Demo BU", "Demo app")
            self._seed_tasks(pid)
        if alias not in {c.alias for c in cfg.connections()}:
            try:
                cfg.save_connection(alias, cid, DEMO_PROJECT, desc.get("connection_params", {}))
            except ConfigError as exc:
                log.warning("demo connection for %s not created: %s", name, exc)
        return {"connector": connector_name, "connection": alias, "url": desc["url"]}

    def _wire_source(self, name: str, desc: dict[str, Any], known: dict[str, Any] | None) -> dict[str, Any]:
        """A task source (SD Elements): its connector and a local project bound to the seeded server
        project, refreshed once; no connection (it is no ALM target)."""
        from almdesk.sources import bind_project, refresh, source_of

        cfg = self.services.config
        system = self.services.registry.get(name)
        connector_name = (known or {}).get("connector") or f"Demo {system.label}"
        existing = {c.name: c for c in cfg.connectors()}
        info = existing.get(connector_name)
        cfg.save_connector(connector_name, name, desc["params"], desc["secrets"],
                           info.network if info else None, connector_id=info.id if info else None)
        server_project = desc["project"]
        project = (known or {}).get("project") or f"{server_project['name']} (SD Elements)"
        if project not in {p["name"] for p in cfg.projects()}:
            pid = cfg.add_project(project, server_project["business_unit"], server_project["application"])
            bind_project(self.services.store, self.services.registry, pid, connector_name, int(server_project["id"]))
        source = source_of(self.services.store, project)
        if source is not None:
            try:
                refresh(self.services.store, source, cfg.connector_settings(connector_name),
                        self.services.http_for(cfg.connector_settings(connector_name)), JobContext())
            except UserFacingError as exc:
                log.warning("demo project %s not refreshed: %s", project, exc)
        return {"connector": connector_name, "project": project, "url": desc["url"]}

    def _seed_tasks(self, project_id: int) -> None:
        """The shipped demo tasks (resources/demo-tasks.json: ``demo_tasks(DEMO_TASKS, seed=1)``)."""
        from almdesk.shipped import demo_tasks_file
        from almdesk.sync.tasks_io import import_tasks

        import_tasks(self.services.store, project_id, demo_tasks_file())

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()
