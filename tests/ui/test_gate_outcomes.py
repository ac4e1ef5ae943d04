"""Gate outcomes stay apart everywhere: passed, failed (it ran) and could not run, in the gate dialog, the
job dock and the Jobs page (and the CLI's exit codes); the "Counted:" line reads in a dark palette."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.base.records import GateRequest
from almdesk.services import Services
from almdesk.ui import theme
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.job_dock import JobDock
from almdesk.ui.jobs_view import JobsView
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv

Shot = Callable[[QWidget, str], Path]
OUTCOMES = {"passed": GateRequest(release="Release 24.1", threshold=100000),
            "failed": GateRequest(release="Release 24.2", threshold=0),
            "could not run": GateRequest(release="Release 99")}


def run_gates(qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> dict[str, int]:
    handles = {}
    for name, request in OUTCOMES.items():
        with qtbot.waitSignal(runner.finished, timeout=20000):
            handles[name] = runner.submit(services.gate_spec(request, connection=octane.connection_id))
    return handles


def test_dock_and_jobs_page_tell_the_three_gate_outcomes_apart(qtbot: QtBot, services: Services,
                                                               runner: JobRunner, octane: OctaneEnv,
                                                               shot: Shot) -> None:
    dock = JobDock(services, runner)
    qtbot.addWidget(dock)
    handles = run_gates(qtbot, services, runner, octane)
    for name, handle in handles.items():
        item = dock.item_of(handle)
        assert item is not None and item.text(1) == name
    failed, could_not = dock.item_of(handles["failed"]), dock.item_of(handles["could not run"])
    assert failed is not None and could_not is not None
    assert failed.foreground(1).color() != could_not.foreground(1).color()

    view = JobsView(services)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    view.kind.setCurrentIndex(view.kind.findData("gate"))
    states = [row[4] for row in view.job_model.rows]
    assert sorted(states) == sorted(OUTCOMES), states
    row = states.index("could not run")
    view.table.selectRow(row)
    assert view.detail.text().startswith("could not run")
    assert view.job_model.colors[states.index("failed")] != view.job_model.colors[row]
    assert "How to fix: " in view.detail.text()
    qtbot.waitUntil(lambda: view.detail.height() >= view.detail.heightForWidth(view.detail.width()), timeout=3000)
    shot(view, "jobs_gate_outcomes")


def test_cli_exit_codes_differ_for_the_three_outcomes(services: Services, octane: OctaneEnv) -> None:
    from tests.cli_run import run

    base = ("gate", "--connection", "octane-shop")
    assert run(services.paths.root, *base, "--release", "Release 24.1", "--threshold", "100000", "--operator", "<=")[0] == 0
    assert run(services.paths.root, *base, "--release", "Release 24.2", "--threshold", "0", "--operator", "<=")[0] == 1
    assert run(services.paths.root, *base, "--release", "Release 99", "--threshold", "0", "--operator", "<=")[0] == 2


@pytest.fixture
def dark_palette() -> Iterator[QPalette]:
    old = QGuiApplication.palette()
    dark = QPalette(old)
    for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed"),
                        (QPalette.ColorRole.Base, "#171717"), (QPalette.ColorRole.AlternateBase, "#262626"),
                        (QPalette.ColorRole.Text, "#e8eaed"),
                        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"), (QPalette.ColorRole.Button, "#303134"),
                        (QPalette.ColorRole.ButtonText, "#e8eaed")):
        dark.setColor(role, QColor(color))
    QGuiApplication.setPalette(dark)
    try:
        yield dark
    finally:
        QGuiApplication.setPalette(old)


def _color_of(style: str) -> QColor:
    for part in style.split(";"):
        key, _, value = part.partition(":")
        if key.strip() == "color":
            return QColor(value.strip())
    raise AssertionError(f"no colour in {style!r}")


def test_counted_line_reads_in_a_dark_palette(qtbot: QtBot, services: Services, runner: JobRunner,
                                              octane: OctaneEnv, dark_palette: QPalette, shot: Shot) -> None:
    assert theme.is_dark()
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.release.setText("Release 24.2")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.run()
    assert dialog.query.text().startswith("Counted:")
    text = _color_of(dialog.query.styleSheet())
    window = dark_palette.color(QPalette.ColorRole.Window)
    assert abs(text.lightness() - window.lightness()) > 90, (text.name(), window.name())
    badge = dialog.verdict.styleSheet()
    assert abs(_color_of(badge).lightness() - QColor(badge.split("background:")[1].split(";")[0].strip())
               .lightness()) > 90, badge
    shot(dialog, "gate_dark")
