"""The workspace picker (a job over the Octane sandbox) and the export/import configuration dialogs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from almdesk.jobs.history import recent_jobs
from almdesk.services import Services
from almdesk.ui import transfer_dialogs
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.runner import JobRunner
from almdesk.ui.workspace_picker import WorkspacePicker, pick_workspace
from tests.ui.conftest import OctaneEnv

Shot = Callable[[QWidget, str], Path]


class ModalDriver:
    """Polls for the active modal dialog and calls ``act`` on it until it returns True."""

    def __init__(self, act: Callable[[QDialog], bool]) -> None:
        self.act = act
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            self.seen.append(type(dialog).__name__)
            if self.act(dialog):
                self.timer.stop()


def drive_modal(qtbot: QtBot, act: Callable[[QDialog], bool]) -> ModalDriver:
    return ModalDriver(act)


def test_pick_workspace_lists_them_through_a_job(qtbot: QtBot, services: Services, runner: JobRunner,
                                                 octane: OctaneEnv, shot: Shot) -> None:
    def choose(dialog: QDialog) -> bool:
        assert isinstance(dialog, WorkspacePicker)
        if dialog.list.count() < 3:
            return False
        shot(dialog, "workspace_picker")
        dialog.filter.setText("pay")
        visible = [dialog.list.item(i) for i in range(dialog.list.count()) if not dialog.list.item(i).isHidden()]
        assert [i.text() for i in visible] == ["Payments  (id 1003)"]
        dialog.list.setCurrentItem(visible[0])
        dialog.accept()
        return True

    driver = drive_modal(qtbot, choose)
    assert pick_workspace(None, services, runner, octane.connector_id) == "1003"
    assert "WorkspacePicker" in driver.seen
    assert recent_jobs(services.store, kind="workspaces")[0]["state"] == "succeeded"


def test_pick_workspace_from_the_gate_dialog_fills_the_field(qtbot: QtBot, services: Services, runner: JobRunner,
                                                             octane: OctaneEnv) -> None:
    gate = GateDialog(services, runner, connector_id=octane.connector_id)
    qtbot.addWidget(gate)
    gate.show()

    def choose(dialog: QDialog) -> bool:
        if not isinstance(dialog, WorkspacePicker) or dialog.list.count() == 0:
            return False
        dialog.list.setCurrentRow(dialog.list.count() - 1)
        dialog.accept()
        return True

    _driver = drive_modal(qtbot, choose)
    gate.target.pick_btn.click()
    assert gate.target.workspace.text() == "1004"


def test_pick_workspace_shows_a_sign_in_failure(qtbot: QtBot, services: Services, runner: JobRunner,
                                                octane: OctaneEnv, shot: Shot) -> None:
    services.config.save_connector("Octane demo", "octane", octane.describe["params"],
                                   {"client_secret": "not-the-secret"}, connector_id=octane.connector_id)

    def look(dialog: QDialog) -> bool:
        assert isinstance(dialog, WorkspacePicker)
        if not dialog.error.isVisible():
            return False
        assert "Client" in dialog.error.text() and "not-the-secret" not in dialog.error.text()
        assert dialog.status.text() == "Could not list the workspaces."
        shot(dialog, "workspace_picker_error")
        dialog.reject()
        return True

    _driver = drive_modal(qtbot, look)
    assert pick_workspace(None, services, runner, octane.connector_id) is None


def test_export_then_import_asks_for_secrets(qtbot: QtBot, services: Services, octane: OctaneEnv, tmp_path: Path,
                                             boxes: list[tuple[str, str]], data_dir: Path, shot: Shot) -> None:
    target = tmp_path / "config.json"
    assert transfer_dialogs.export_dialog(None, services, str(target)) == str(target)
    doc = json.loads(target.read_text())
    assert doc["results"][0]["alias"] == "octane-shop"
    assert octane.describe["secrets"]["client_secret"] not in target.read_text()
    assert boxes[-1][0] == "info" and "Secrets were left out" in boxes[-1][1]

    other = Services.open(data_dir.parent / "other", registry=services.registry)
    try:
        secret = octane.describe["secrets"]["client_secret"]

        def fill(dialog: QDialog) -> bool:
            assert isinstance(dialog, transfer_dialogs.SecretsDialog)
            assert ("Octane demo", "client_secret") in dialog.edits
            shot(dialog, "import_secrets")
            dialog.edits[("Octane demo", "client_secret")].setText(secret)
            dialog.accept()
            return True

        _driver = drive_modal(qtbot, fill)
        assert transfer_dialogs.import_dialog(None, other, str(target)) is True
        assert [c.alias for c in other.config.connections()] == ["octane-shop"]
        settings = other.config.connector_settings("Octane demo")
        assert settings.secret("client_secret") == secret
        assert boxes[-1][0] == "info" and "1 connectors, 1 connections" in boxes[-1][1]
        # the same file again: every name clashes, nothing is written, the user is told why
        assert transfer_dialogs.import_dialog(None, other, str(target)) is False
        assert boxes[-1][0] == "warning" and "already exists" in boxes[-1][1]
    finally:
        other.close()


def test_import_rejects_a_bad_file(services: Services, tmp_path: Path, boxes: list[tuple[str, str]]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert transfer_dialogs.import_dialog(None, services, str(bad)) is False
    assert boxes and boxes[-1][0] == "warning"
    assert services.config.connectors() == []
