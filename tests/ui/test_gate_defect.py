"""Gate and Create Defect dialogs driven against a real Octane sandbox over loopback HTTP."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv

Shot = Callable[[QWidget, str], Path]


def run_gate(qtbot: QtBot, dialog: GateDialog) -> None:
    with qtbot.waitSignal(dialog.runner.finished, timeout=20000):
        assert dialog.run() is not None
    assert dialog.run_btn.isEnabled()


def test_gate_fails_shows_count_query_and_clickable_items(qtbot: QtBot, services: Services, runner: JobRunner,
                                                          octane: OctaneEnv, shot: Shot) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.workspace_box.isVisible()  # a connection knows its workspace
    dialog.release.setText("Release 24.2")
    dialog.threshold.setValue(0)
    dialog.operator.setCurrentText("<=")
    run_gate(qtbot, dialog)
    data = dialog.job_result.outcome.data if dialog.job_result else {}
    count = data["count"]
    assert count > 0, "the seeded release has defects"
    assert dialog.verdict.isVisible() and dialog.verdict.text() == "FAIL"
    assert "#b3261e" in dialog.verdict.styleSheet()
    assert f"<b>{count}</b> matching item(s)" in dialog.count.text() and f"{count} &lt;= 0 is <b>false" in dialog.count.text()
    assert "Release 24.2" in dialog.query.text()
    model = dialog.items_model
    assert model.rowCount() == min(count, 50) and dialog.items.isVisible()
    first_url = model.urls[0]
    assert first_url.startswith(octane.server.url) and "entityType=work_item" in first_url
    opened: list[QUrl] = []
    dialog.items.opener = opened.append
    dialog.items.clicked.emit(model.index(0, model.url_column))
    assert opened and opened[0].toString() == first_url
    dialog.items.clicked.emit(model.index(0, 2))  # the title is not a link
    assert len(opened) == 1
    shot(dialog, "gate_fail")


def test_gate_passes_with_explicit_operator(qtbot: QtBot, services: Services, runner: JobRunner,
                                            octane: OctaneEnv, shot: Shot) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.release.setText("Release 24.1")
    dialog.severities.setText("Urgent, Very High")
    dialog.phases.setText("New, Opened")
    dialog.operator.setCurrentText("<")
    dialog.threshold.setValue(1000)
    run_gate(qtbot, dialog)
    assert dialog.verdict.text() == "PASS" and "#1b7f3b" in dialog.verdict.styleSheet()
    assert "is <b>true" in dialog.count.text()
    assert not any(label.isVisible() for label in dialog.errors.values())
    shot(dialog, "gate_pass")


def test_gate_unknown_release_and_severity_shown_under_the_input(qtbot: QtBot, services: Services,
                                                                 runner: JobRunner, octane: OctaneEnv,
                                                                 shot: Shot) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.release.setText("Release 99")
    run_gate(qtbot, dialog)
    error = dialog.errors["release"]
    assert error.isVisible() and "No release named 'Release 99'" in error.text()
    assert "Release 24.1" in error.text(), "the hint lists the valid releases"
    assert not dialog.verdict.isVisible() and dialog.status.text() == "The gate could not run."
    shot(dialog, "gate_unknown_release")
    dialog.release.setText("Release 24.1")
    dialog.severities.setText("Catastrophic")
    run_gate(qtbot, dialog)
    assert not dialog.errors["release"].isVisible()
    assert dialog.errors["severities"].isVisible() and "Unknown severity: Catastrophic" in \
        dialog.errors["severities"].text() and "Very High" in dialog.errors["severities"].text()


def test_gate_on_connector_needs_a_workspace_row(qtbot: QtBot, services: Services, runner: JobRunner,
                                                 octane: OctaneEnv, shot: Shot) -> None:
    dialog = GateDialog(services, runner, connector_id=octane.connector_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.workspace_box.isVisible() and dialog.target.pick_btn.isVisible()
    dialog.target.workspace.setText("1003")
    dialog.release.setText("Release 24.3")
    dialog.operator.setCurrentText(">=")
    run_gate(qtbot, dialog)
    assert dialog.verdict.text() in ("PASS", "FAIL")
    assert dialog.job_result is not None and dialog.job_result.outcome.data["query"]
    shot(dialog, "gate_connector")


def test_defect_created_with_id_and_clickable_link(qtbot: QtBot, services: Services, runner: JobRunner,
                                                   octane: OctaneEnv, shot: Shot) -> None:
    dialog = DefectDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Create defect"
    dialog.submit()
    assert dialog.errors["name"].isVisible() and "Name is required" in dialog.errors["name"].text()
    assert dialog.handle is None, "nothing was submitted"
    dialog.name.setText("Checkout fails on empty cart")
    dialog.description.setPlainText("Steps: empty the cart, press Checkout.\nExpected: a message.")
    dialog.release.setText("Release 24.2")
    dialog.severity.setText("High")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        assert dialog.submit() is not None
    assert not dialog.errors["name"].isVisible()
    result = dialog.job_result
    assert result is not None and result.state == "succeeded", result and result.outcome.message
    key, url = result.outcome.data["key"], result.outcome.data["url"]
    assert dialog.created.isVisible() and f"<b>{key}</b>" in dialog.created.text() \
        and html.escape(url) in dialog.created.text()
    assert url.startswith(octane.server.url + "/ui/entity-navigation?p=")
    opened: list[QUrl] = []
    dialog.opener = opened.append
    dialog.created.linkActivated.emit(url)
    assert [u.toString() for u in opened] == [url]
    shot(dialog, "defect_created")


def test_defect_unknown_severity_inline(qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv,
                                        shot: Shot) -> None:
    dialog = DefectDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("Layout breaks")
    dialog.severity.setText("Apocalyptic")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    assert dialog.errors["severity"].isVisible() and "Apocalyptic" in dialog.errors["severity"].text()
    assert not dialog.created.isVisible() and dialog.status.text() == "Not created."
    shot(dialog, "defect_error")


def test_dialogs_without_targets_say_what_to_do(qtbot: QtBot, services: Services, runner: JobRunner,
                                                shot: Shot) -> None:
    gate = GateDialog(services, runner)
    defect = DefectDialog(services, runner)
    for dialog in (gate, defect):
        qtbot.addWidget(dialog)
        dialog.show()
        assert "no connector or connection" in dialog.error.text()
    assert not gate.run_btn.isEnabled() and not defect.create_btn.isEnabled()
    shot(gate, "gate_empty")
