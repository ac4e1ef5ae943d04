"""Helpers for the admin tests: snapshots of what a data dir holds, sandbox descriptions, CLI driving."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from almdesk import sandbox
from almdesk.cli import main
from almdesk.services import Services
from almdesk.systems.registry import Registry
from tests.admin.conftest import DictKeyring
from tests.toy import ToySandbox


def snapshot(svc: Services, vault: DictKeyring) -> dict[str, Any]:
    """Everything an import could change: connectors, connections, projects and keyring entries."""
    cfg = svc.config
    return {"connectors": [(c.name, c.system, c.params, c.network) for c in cfg.connectors()],
            "connections": [(c.alias, c.connector, c.project, c.params, c.frequency, c.debug_mode)
                            for c in cfg.connections()],
            "projects": [(p["name"], p["business_unit"], p["application"]) for p in cfg.projects()],
            "keyring": dict(vault.entries)}


def described_systems(registry: Registry) -> list[str]:
    """ALM systems of the registry that have a sandbox (the toy system has its own test sandbox); a task
    source (SD Elements) is left out: it has no connections."""
    have = set(sandbox.available()) | {"toy"}
    return [name for name in registry.alm_targets() if name in have]


def describe(system: str, base_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    app = ToySandbox() if system == "toy" else sandbox.create(system)
    info: dict[str, Any] = app.describe(base_url)
    return info


def run_cli(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, dict[str, Any], str]:
    """Run ``almdesk --data-dir D --json ARGS``; return (exit code, the JSON document, all output)."""
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), "--json", *args], stdin=io.StringIO(stdin), stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    return code, json.loads(lines[-1]), out.getvalue()
