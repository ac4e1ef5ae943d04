"""The views inside the real main window: Projects and Jobs pages, Sync Now / Gate / Create Defect actions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.main_window import MainWindow
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_console import SyncConsole
from tests.ui.conftest import OctaneEnv, add_tasks

Shot = Callable[[QWidget, str], Path]


def test_pages_and_actions_in_the_main_window(qtbot: QtBot, services: Services, runner: JobRunner,
                                              octane: OctaneEnv, shot: Shot) -> None:
    add_tasks(services, octane.project_id, 25)
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    window.show()
    window.nav.setCurrentRow(1)
    window.connections.reload(octane.connection_id)
    assert window.connections.current_id() == octane.connection_id

    window.act_dry.trigger()
    consoles = window.findChildren(SyncConsole)
    assert len(consoles) == 1
    console = consoles[0]
    qtbot.waitUntil(lambda: console.finished_at > 0, timeout=30000)
    assert console.job_result is not None and console.job_result.state == "succeeded"
    console.close()

    window.act_gate.trigger()
    gate = window.findChildren(GateDialog)[-1]
    assert gate.target.ids() == (octane.connection_id, None)
    gate.close()
    window.act_defect.trigger()
    defect = window.findChildren(DefectDialog)[-1]
    assert defect.target.ids() == (octane.connection_id, None)
    defect.close()

    window.nav.setCurrentRow(2)
    assert window.projects.current_project() == octane.project_id
    assert window.projects.model.total == 25
    shot(window, "main_projects")

    window.nav.setCurrentRow(3)
    qtbot.waitUntil(lambda: window.jobs.job_model.rowCount() >= 1, timeout=5000)
    assert window.jobs.job_model.rows[0][2] == "dry-run"
    shot(window, "main_jobs")
