"""The secrets canary: known secrets, every action in debug mode, then no copy of a secret anywhere.

For every system whose sandbox exists (plus the toy and tracer test systems) one connector holds the
secret the sandbox accepts and another a rejected canary secret. Test Connection, sync (when the sync
engine is importable), gate and Create Defect run on both in debug mode, then a support bundle and
an export are made. No secret may appear raw, URL-encoded, JSON-escaped, base64 or as base64 of
``user:secret`` in the database (and its -wal), the logs, the traces, the bundles (every zip member)
or the export.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from almdesk import sandbox
from almdesk.base.fields import FieldKind
from almdesk.base.records import DefectRequest, GateRequest
from almdesk.bundle import support_bundle
from almdesk.errors import UserFacingError
from almdesk.models import Task
from almdesk.sandbox.base import SandboxApp, SandboxServer, serve
from almdesk.secrets import SecretStore
from almdesk.services import Services
from almdesk.systems.registry import Registry, is_alm_target
from almdesk.transfer import export_config
from tests.admin.conftest import DictKeyring
from tests.admin.tracer import TracerSandbox, TracerSystem
from tests.toy import ToySandbox, ToySystem

TEST_SANDBOXES = {"toy": ToySandbox, "tracer": TracerSandbox}


def _app(name: str) -> SandboxApp:
    return TEST_SANDBOXES[name]() if name in TEST_SANDBOXES else sandbox.create(name)


@pytest.fixture
def servers() -> Iterator[dict[str, SandboxServer]]:
    registry = Registry.default(extra=[ToySystem(), TracerSystem()])
    names = [n for n in registry.names() if n in sandbox.available() or n in TEST_SANDBOXES]
    running = {name: serve(_app(name)) for name in names}
    yield running
    for server in running.values():
        server.stop()


def forms(secret: str, users: set[str]) -> set[str]:
    out = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode()}
    out |= {base64.b64encode(f"{u}:{secret}".encode()).decode() for u in users}
    return {f for f in out if len(f) >= 6}


def _run(svc: Services, make_spec: Any) -> str:
    try:
        spec = make_spec()
    except (UserFacingError, NotImplementedError, ImportError) as exc:
        return f"not run: {type(exc).__name__}"
    return svc.run(spec).state


def _actions(svc: Services, alias: str, connector: str, sync: bool) -> dict[str, str]:
    """Run every action on one connection (debug mode on); the states they ended in."""
    defect = DefectRequest("Canary defect", "The canary sings.")
    return {
        "test-connector": _run(svc, lambda: svc.test_spec(connector=connector)),
        "test": _run(svc, lambda: svc.test_spec(connection=alias)),
        "dry-run": _run(svc, lambda: svc.sync_spec(alias, dry_run=True)) if sync else "-",
        "sync": _run(svc, lambda: svc.sync_spec(alias)) if sync else "-",
        "gate": _run(svc, lambda: svc.gate_spec(GateRequest(threshold=100_000), connection=alias)),
        "defect": _run(svc, lambda: svc.defect_spec(defect, connection=alias)),
    }


def _add_tasks(svc: Services, project: str) -> None:
    pid = svc.config.project_id(project)
    with svc.store.session() as s:
        for i, status in enumerate(("TODO", "TODO", "DONE"), 1):
            s.add(Task(project_id=pid, task_id=f"T{900 + i}", title=f"Canary task {i}", text="Keep secrets secret.",
                       phase="development", priority=9, status=status))


def _scan(blob: bytes, where: str, secrets: dict[str, set[str]], hits: list[str]) -> None:
    for secret, variants in secrets.items():
        for form in variants:
            if form.encode() in blob:
                hits.append(f"{where}: {form!r} (a form of {secret[:3]}…)")


def test_no_secret_anywhere(servers: dict[str, SandboxServer], data_dir: Path, tmp_path: Path) -> None:
    registry = Registry.default(extra=[ToySystem(), TracerSystem()])
    svc = Services.open(data_dir, registry=registry, secrets=SecretStore(DictKeyring()))
    cfg = svc.config
    cfg.add_project("Canary", "BU", "App")
    _add_tasks(svc, "Canary")
    known: dict[str, set[str]] = {}
    outcomes: dict[str, dict[str, str]] = {}
    try:
        for name, server in servers.items():
            info = server.describe()
            secret_fields = [f.name for f in registry.get(name).connector_fields if f.kind is FieldKind.SECRET]
            canary = {k: f"CANARY-{name}-{k}-7Qx!%+/=" for k in info["secrets"]}
            users = {str(v) for v in info["params"].values() if isinstance(v, str)}
            for kind, secrets in (("ok", info["secrets"]), ("bad", canary)):
                cfg.save_connector(f"{name}-{kind}", name, dict(info["params"]), dict(secrets))
                for value in secrets.values():
                    known[value] = forms(value, users)
                if not is_alm_target(registry.get(name)):  # a task source: its connector's test, no connection
                    test = _run(svc, lambda n=f"{name}-{kind}": svc.test_spec(connector=n))  # type: ignore[misc]
                    outcomes[f"{name}-{kind}"] = {"test": test}
                    continue
                # ok and bad target the same ALM project: distinct contexts, or Test Connection and sync refuse
                cfg.save_connection(f"{name}-{kind}", f"{name}-{kind}", "Canary",
                                    {**info["connection_params"], "alm_context": kind}, debug_mode=True)
            assert set(info["secrets"]) <= set(secret_fields)
        sync_available = importlib.util.find_spec("almdesk.sync") is not None
        for conn in cfg.connections():
            outcomes[conn.alias] = _actions(svc, conn.alias, conn.connector, sync_available)
        logging.getLogger("almdesk").info("canary outcomes: %s", outcomes)
        # The accepted secrets really worked somewhere (else the canary proves little).
        assert all(o["test"] == "succeeded" for a, o in outcomes.items() if a.endswith("-ok")), outcomes
        assert all(o["test"] == "failed" for a, o in outcomes.items() if a.endswith("-bad")), outcomes
        bundles = [support_bundle(svc, out_dir=svc.paths.bundles)]
        bundles += [support_bundle(svc, connection=c.alias, out_dir=svc.paths.bundles) for c in cfg.connections()]
        export_text = json.dumps(export_config(cfg))
        traces = list(svc.paths.traces.iterdir())
        assert len(traces) >= len(outcomes), "debug mode must write a trace per job"

        hits: list[str] = []
        files = [p for p in svc.paths.root.rglob("*") if p.is_file()]
        assert svc.paths.database in files
        log_files = {Path(h.baseFilename) for h in logging.getLogger().handlers  # the process-wide app log
                     if getattr(h, "_almdesk", False) and hasattr(h, "baseFilename")}
        for path in sorted(set(files) | {p for p in log_files if p.exists()}):
            _scan(path.read_bytes(), str(path.relative_to(tmp_path.parent) if tmp_path.parent in path.parents
                                         else path), known, hits)
        for bundle in bundles:
            with zipfile.ZipFile(bundle) as zf:
                for member in zf.namelist():
                    _scan(zf.read(member), f"{bundle.name}!{member}", known, hits)
        _scan(export_text.encode(), "export", known, hits)
        assert not hits, "\n".join(hits)
    finally:
        svc.close()

