"""Fixtures for the GUI view tests: a job runner, an Octane sandbox with a connector and a connection.

Screenshots: the ``shot`` fixture of ``tests/conftest.py`` (under ``tmp_path``, or ``$ALMDESK_SHOTS``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.ui import transfer_dialogs
from almdesk.ui.runner import JobRunner


def emit_drops_true_reference() -> bool:
    """True under PySide6 6.12.0 on Python 3.11: each ``SignalInstance.emit()`` drops a reference to True.

    After about as many emits as True has references (~10,000 in a test process) Python aborts with
    "Fatal Python error: bool_dealloc". 6.11.3 does not do it; on Python ≥ 3.12 True is immortal.
    See test_pyside_emit.py.
    """
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal(int)

    probe = _Probe()
    before = sys.getrefcount(True)
    for i in range(8):
        probe.ping.emit(i)
    return sys.getrefcount(True) < before




@pytest.fixture
def runner(services: Services) -> Iterator[JobRunner]:
    r = JobRunner(services)
    yield r
    r.shutdown()


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes shown by the transfer dialogs, recorded instead of blocking."""
    shown: list[tuple[str, str]] = []

    def record(kind: str) -> Callable[..., Any]:
        def box(_parent: Any, _title: str, text: str, *a: Any) -> Any:
            shown.append((kind, text))
            return None
        return box

    monkeypatch.setattr(transfer_dialogs.QMessageBox, "information", record("info"))
    monkeypatch.setattr(transfer_dialogs.QMessageBox, "warning", record("warning"))
    return shown


@dataclass
class OctaneEnv:
    server: SandboxServer
    connector_id: int
    connection_id: int
    project_id: int
    describe: dict


def _octane_available() -> bool:
    try:
        import almdesk.sandbox.octane
        import almdesk.systems.octane  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def octane(services: Services) -> Iterator[OctaneEnv]:
    """A small seeded Octane sandbox with connector "Octane demo", project "Shop" and connection "octane-shop"."""
    if not _octane_available() or "octane" not in services.registry:
        pytest.skip("the Octane system is not installed")
    from almdesk.sandbox.octane import create

    server = serve(create(seed=3, defects=90, stories=15))
    try:
        info = server.app.describe(server.url)
        connector_id = services.config.save_connector("Octane demo", "octane", info["params"], info["secrets"])
        project_id = services.config.add_project("Shop", "Retail", "Web shop")
        connection_id = services.config.save_connection("octane-shop", connector_id, "Shop",
                                                        info["connection_params"])
        yield OctaneEnv(server, connector_id, connection_id, project_id, info)
    finally:
        server.stop()


def add_tasks(services: Services, project_id: int, n: int, seed: int = 1) -> None:
    """Put ``n`` demo tasks into the project through the importer's upsert (no file needed)."""
    from almdesk.sync.demo import demo_tasks
    from almdesk.sync.tasks_io import TaskRow, upsert_tasks

    rows = []
    for t in demo_tasks(n, seed):
        rows.append(TaskRow(task_id=t["task_id"], title=t["title"], text=t.get("text", ""), phase=t["phase"],
                            priority=int(t["priority"]), status=t["status"], verification=t["verification"],
                            tags=tuple(t["tags"])))
    upsert_tasks(services.store, project_id, rows)


def bulk_tasks(services: Services, project_id: int, n: int) -> None:
    """Insert ``n`` plain tasks fast (one executemany), for size tests."""
    from sqlalchemy import insert

    from almdesk.models import Task

    phases = ("requirements", "architecture-design", "development", "testing")
    statuses = ("TODO", "TODO", "TODO", "DONE", "NA")
    rows = [{"project_id": project_id, "task_id": f"T{i}", "title": f"Task number {i}", "text": "",
             "phase": phases[i % 4], "priority": 1 + i % 10, "status": statuses[i % 5], "verification": "none",
             "tags": ["api"] if i % 3 == 0 else []} for i in range(1, n + 1)]
    with services.store.session() as s:
        s.execute(insert(Task), rows)
