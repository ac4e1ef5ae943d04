"""The Test Connection step list against a real Octane sandbox: readable at 1024×700 (the Result column
stays in view and wraps), the typed results painted, a detail pane, Copy diagnostic without secrets,
and nothing left over from the previous run."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QSplitter, QWidget

from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.ui.runner import JobRunner
from almdesk.ui.steps import StepList, duration, wrapped_height
from tests.ui.conftest import OctaneEnv


def _run(qtbot, steps: StepList, runner: JobRunner, spec) -> JobResult:  # type: ignore[no-untyped-def]
    handle = runner.submit(spec)
    runner.job_event.connect(lambda h, ev: steps.on_event(ev) if h == handle else None)
    results: list[JobResult] = []
    runner.finished.connect(lambda h, r: (results.append(r), steps.on_finished(r)) if h == handle else None)
    qtbot.waitUntil(lambda: bool(results), timeout=30000)
    return results[0]


def _page(qtbot) -> tuple[QWidget, StepList]:  # type: ignore[no-untyped-def]
    """A window of 1024×700 split like the connector page: the form left, the step list right."""
    window = QSplitter()
    window.addWidget(QWidget())
    steps = StepList()
    window.addWidget(steps)
    window.setSizes([544, 480])
    window.resize(1024, 700)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, steps


def test_steps_readable_and_copyable(qtbot, services: Services, octane: OctaneEnv,  # type: ignore[no-untyped-def]
                                     runner: JobRunner, shot) -> None:
    window, steps = _page(qtbot)
    steps.reset("Testing…")
    result = _run(qtbot, steps, runner, services.test_spec(connector=octane.connector_id))
    assert result.state == "succeeded"
    statuses = steps.statuses()
    assert len(statuses) == len(result.outcome.steps) and set(statuses.values()) <= {"ok", "warning"}
    tree = steps.tree
    viewport = tree.viewport().width()
    header = tree.header()
    # every column is inside the viewport; the Result column has a real share of it
    assert header.sectionPosition(3) + header.sectionSize(3) <= viewport + 1
    assert header.sectionSize(3) >= 150
    assert tree.horizontalScrollBar().maximum() == 0
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        name_width = tree.fontMetrics().horizontalAdvance(item.text(1))
        assert header.sectionSize(1) >= name_width, item.text(1)  # step names never cut
        assert item.text(2) and "…" not in item.text(2)  # the time is whole
        assert item.text(3) == result.outcome.steps[i].detail  # the result shown in the column, not only a tooltip
        needed = wrapped_height(item.text(3), item.font(3), header.sectionSize(3) - 10)
        assert tree.visualItemRect(item).height() >= needed, item.text(3)  # wrapped whole, not cut
    assert any(tree.visualItemRect(tree.topLevelItem(i)).height() > tree.fontMetrics().height() * 1.8
               for i in range(tree.topLevelItemCount()))  # some long result does take two lines
    assert steps.summary.text().startswith("✔ All")
    shot(window, "steps-1024x700-passed")

    tree.setCurrentItem(tree.topLevelItem(1))
    assert tree.topLevelItem(1).text(1) in steps.detail.toPlainText()

    qtbot.mouseClick(steps.copy_btn, qtbot_button())
    copied = QGuiApplication.clipboard().text()
    assert copied == steps.diagnostic()
    for step in result.outcome.steps:
        assert step.title in copied and step.detail in copied
    assert copied.count("[ok]") + copied.count("[warning]") == len(result.outcome.steps)
    assert " ms)" in copied or " s)" in copied
    for secret in octane.describe["secrets"].values():
        assert secret not in copied


def test_failed_step_shows_hint_and_no_leftovers(qtbot, services: Services, octane: OctaneEnv,  # type: ignore[no-untyped-def]
                                                 runner: JobRunner, shot) -> None:
    window, steps = _page(qtbot)
    _run(qtbot, steps, runner, services.test_spec(connector=octane.connector_id))
    passed = steps.statuses()
    wrong = "definitely-wrong-secret-123"
    params = services.config.connector(octane.connector_id)
    services.config.save_connector(params.name, "octane", params.params, {"client_secret": wrong},
                                   connector_id=octane.connector_id)
    steps.reset("Testing…")
    assert steps.tree.topLevelItemCount() == 0 and steps.detail.toPlainText() == ""
    assert not steps.copy_btn.isEnabled()
    steps.set_secrets([wrong])
    result = _run(qtbot, steps, runner, services.test_spec(connector=octane.connector_id))
    assert result.state == "failed"
    statuses = steps.statuses()
    assert list(statuses) == list(passed)  # every step listed, those never reached as not run
    failed = [name for name, status in statuses.items() if status == "failed"]
    assert len(failed) == 1
    after = list(statuses)[list(statuses).index(failed[0]) + 1:]
    assert after and all(statuses[name] == "skipped" for name in after)
    for name in after:  # no time, no result from the passed run
        item = next(steps.tree.topLevelItem(i) for i in range(steps.tree.topLevelItemCount())
                    if steps.tree.topLevelItem(i).text(1) == name)
        assert item.text(2) == "" and item.text(3) == "not run"
    failure = next(s for s in result.outcome.steps if s.status == "failed")
    assert failure.hint and failure.hint in steps.detail.toPlainText()  # the failed step is selected
    assert steps.summary.text().startswith("✖")
    assert f"Fix: {failure.hint}" in steps.diagnostic() and wrong not in steps.diagnostic()
    shot(window, "steps-1024x700-failed")


def test_duration_is_readable() -> None:
    assert duration(0.0421) == "42 ms"
    assert duration(3.004) == "3.0 s"
    assert duration(65.2) == "1 min 5 s"


def qtbot_button():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_cancel_marks_running_steps(qtbot) -> None:  # type: ignore[no-untyped-def]
    from almdesk.jobs.context import JobEvent

    steps = StepList()
    qtbot.addWidget(steps)
    steps.on_event(JobEvent("Resolve DNS", "step", "running", step="dns", time=10.0))
    steps.on_event(JobEvent("a sync row", "create", "ok"))  # not a step: ignored
    assert steps.statuses() == {"Resolve DNS": "running"}
    steps.on_finished(None)
    assert steps.statuses() == {"Resolve DNS": "skipped"} and steps.summary.text() == "Cancelled."
    assert QApplication.instance() is not None
