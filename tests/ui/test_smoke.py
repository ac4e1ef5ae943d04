"""Every view and dialog builds on an empty store and renders offscreen."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.jobs_view import JobsView
from almdesk.ui.projects_view import ProjectsView
from almdesk.ui.runner import JobRunner


def test_views_build_on_empty_store(qtbot: QtBot, services: Services) -> None:
    runner = JobRunner(services)
    for widget in (ProjectsView(services, runner), JobsView(services), GateDialog(services, runner),
                   DefectDialog(services, runner)):
        qtbot.addWidget(widget)
        widget.show()
        assert not widget.grab().isNull()
