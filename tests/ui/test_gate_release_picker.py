"""The gate's release is a server-backed picker (issue 18): "↻" lists the target's releases in the job
runner against the sandbox — Octane's releases on a connection, Jira's versions (``alm_project_version``)
on a connector + project key typed — and a pick is what the gate then counts; a target whose system lists
no releases keeps a plain input; a listing that cannot run says why under the input it names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.services.actions import GateReport
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv


def list_releases(qtbot: QtBot, dialog: GateDialog, runner: JobRunner) -> None:
    assert dialog.release.button.isVisible()
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(dialog.release.button, Qt.MouseButton.LeftButton)


def test_octane_gate_lists_the_releases_and_counts_the_one_picked(qtbot: QtBot, services: Services,
                                                                 runner: JobRunner, octane: OctaneEnv) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.release.list_as == "release"
    list_releases(qtbot, dialog, runner)
    listed = dialog.release.values()
    assert {"Release 24.1", "Release 24.2", "Release 24.3"} <= set(listed)
    assert len(listed) == len(set(listed))  # the sandbox's duplicate names are listed once
    assert dialog.release.status.text() == f"{len(listed)} listed"
    dialog.release.combo.activated.emit(listed.index("Release 24.2"))
    assert dialog.request().release == "Release 24.2"
    dialog.threshold.setValue(0)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(dialog.run_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job_result is not None)
    assert dialog.job_result is not None
    report = dialog.job_result.outcome.payload
    assert isinstance(report, GateReport) and report.count > 0 and "Release 24.2" in report.query


def test_octane_connector_target_lists_the_workspace_typed(qtbot: QtBot, services: Services, runner: JobRunner,
                                                          octane: OctaneEnv) -> None:
    dialog = GateDialog(services, runner, connector_id=octane.connector_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.target.workspace.setText("abc")  # not a workspace id: said under the workspace, nothing listed
    list_releases(qtbot, dialog, runner)
    assert "must be a number" in dialog.errors["workspace"].text() and not dialog.release.values()
    dialog.target.workspace.setText(str(octane.describe["params"].get("workspace") or "1002"))
    list_releases(qtbot, dialog, runner)
    assert "Release 24.1" in dialog.release.values()
    assert not dialog.errors["workspace"].text()


@pytest.fixture
def jira_server() -> Iterator[SandboxServer]:
    from almdesk.sandbox.jira import create

    server = serve(create(seed=7, mode="dc", issues=12))
    yield server
    server.stop()


def test_jira_gate_lists_the_project_versions(qtbot: QtBot, services: Services, runner: JobRunner,
                                             jira_server: SandboxServer) -> None:
    desc = jira_server.describe()
    cid = services.config.save_connector("Jira demo", "jira", desc["params"], desc["secrets"])
    dialog = GateDialog(services, runner, connector_id=cid)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.release.list_as == "alm_project_version"
    list_releases(qtbot, dialog, runner)  # no project key typed: the error says so, under the project key
    assert "project key first" in dialog.errors["workspace"].text()
    dialog.target.workspace.setText(str(desc["connection_params"]["alm_project"]))
    list_releases(qtbot, dialog, runner)
    assert dialog.release.values(), dialog.release.status.text()
    first = dialog.release.values()[0]
    dialog.release.combo.activated.emit(0)
    assert dialog.request().release == first


def test_retarget_to_a_system_without_releases_keeps_a_plain_input(qtbot: QtBot, services: Services,
                                                                   runner: JobRunner, octane: OctaneEnv) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    list_releases(qtbot, dialog, runner)
    dialog.release.setText("Release 24.3")
    from almdesk.ui.field_editors import Pickers

    query, _name = dialog.release_query()
    dialog.release.retarget(Pickers(runner, query), None)  # what a target without a release listing does
    assert not dialog.release.button.isVisible() and not dialog.release.values()
    assert dialog.request().release == "Release 24.3"  # the text typed stays
