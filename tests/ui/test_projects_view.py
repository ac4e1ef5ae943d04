"""The Projects page: new project with inline errors, filters, a 50,000-task project paged lazily, import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.jobs.history import recent_jobs
from almdesk.services import Services
from almdesk.sync.demo import write_demo_tasks
from almdesk.ui.project_dialog import NewProjectDialog
from almdesk.ui.projects_view import PAGE, ProjectsView
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import bulk_tasks

Shot = Callable[[QWidget, str], Path]


def test_new_project_dialog_inline_errors(qtbot: QtBot, services: Services, shot: Shot) -> None:
    services.config.add_project("Shop")
    dialog = NewProjectDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.create_project()
    assert dialog.name_error.isVisible() and "Project name is required" in dialog.name_error.text()
    dialog.name.setText("Shop")
    dialog.create_project()
    assert "already exists" in dialog.name_error.text() and dialog.project_id is None
    shot(dialog, "new_project_error")
    dialog.name.setText("Payments")
    dialog.business_unit.setText("Finance")
    dialog.application.setText("Gateway")
    dialog.create_project()
    assert dialog.project_id is not None and not dialog.name_error.isVisible()
    assert {p["name"]: p["business_unit"] for p in services.config.projects()}["Payments"] == "Finance"


def test_new_project_from_the_view_emits_changed(qtbot: QtBot, services: Services, runner: JobRunner,
                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    assert view.empty.isHidden() is False

    def fake_exec(dialog: NewProjectDialog) -> int:
        dialog.name.setText("Mobile")
        dialog.create_project()
        return int(dialog.result())

    monkeypatch.setattr(NewProjectDialog, "exec", fake_exec)
    with qtbot.waitSignal(view.changed, timeout=2000):
        pid = view.new_project()
    assert pid is not None and view.current_project() == pid
    assert view.list.currentItem() is not None and view.list.currentItem().text(0) == "Mobile"


def test_large_project_is_paged_and_filtered(qtbot: QtBot, services: Services, runner: JobRunner,
                                             shot: Shot) -> None:
    pid = services.config.add_project("Big", "Retail", "Web shop")
    bulk_tasks(services, pid, 50_000)
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.apply_filters()
    assert view.model.total == 50_000 and view.model.rowCount() == PAGE
    assert view.count_label.text() == "50,000 task(s)"
    assert view.list.currentItem() is not None and view.list.currentItem().text(1) == "50,000"
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() > PAGE, timeout=5000)
    assert view.model.rowCount() == 2 * PAGE  # scrolling to the end fetched one more page, not all 50,000
    rows = view.model.rows
    assert len({r[0] for r in rows}) == len(rows), "pages do not overlap"
    shot(view, "projects_big")

    view.status.setCurrentIndex(view.status.findData("DONE"))
    assert 0 < view.model.total < 50_000 and all(r[4] == "DONE" for r in view.model.rows)
    view.phase.setCurrentIndex(view.phase.findData("development"))
    view.min_priority.setValue(9)
    view.apply_filters()
    assert all(r[4] == "DONE" and r[2] == "development" and int(r[3]) >= 9 for r in view.model.rows)
    assert view.count_label.text().endswith("match the filters")
    view.status.setCurrentIndex(0)
    view.phase.setCurrentIndex(0)
    view.min_priority.setValue(1)
    view.search.setText("T4999")
    view.apply_filters()
    ids = {r[0] for r in view.model.rows}
    assert "T4999" in ids and "T49999" in ids and len(ids) == 11
    view.search.setText("100%_")  # LIKE wildcards are taken literally
    view.apply_filters()
    assert view.model.total == 0


def test_import_tasks_runs_as_a_job_and_shows_errors(qtbot: QtBot, services: Services, runner: JobRunner,
                                                     tmp_path: Path, shot: Shot) -> None:
    pid = services.config.add_project("Shop")
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    assert view.import_btn.isEnabled()
    good = write_demo_tasks(tmp_path / "tasks.csv", 30, seed=4)
    with qtbot.waitSignal(view.changed, timeout=20000):
        assert view.import_tasks(str(good)) is not None
        assert not view.import_btn.isEnabled(), "one import at a time"
    assert view.import_status.status == "ok" and view.import_status.text().startswith("Imported tasks.csv into Shop")
    assert view.model.total == 30 and view.import_btn.isEnabled()
    jobs = recent_jobs(services.store, kind="import")
    assert jobs and jobs[0]["state"] == "succeeded" and jobs[0]["counts"].get("created") == 30

    bad = tmp_path / "bad.csv"
    bad.write_text("task_id,title,priority\nT100,Fine,7\nT101,Broken,eleven\n", encoding="utf-8")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        view.import_tasks(str(bad))
    error = view.import_error.text()
    assert view.import_error.isVisible() and "line 3" in error and "priority" in error
    assert view.model.total == 30, "a bad file changes nothing"
    shot(view, "projects_import_error")
    assert services.config.projects()[0]["id"] == pid


def test_import_cancelled_file_dialog_does_nothing(qtbot: QtBot, services: Services, runner: JobRunner,
                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services.config.add_project("Shop")
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    monkeypatch.setattr(view, "choose_file", lambda: "")
    assert view.import_tasks() is None and view.import_status.text() == ""


def test_refreshes_after_a_sync_updated_tasks(qtbot: QtBot, services: Services, runner: JobRunner) -> None:
    from sqlalchemy import update

    from almdesk.jobs.context import JobOutcome
    from almdesk.jobs.record import JobResult
    from almdesk.models import Task

    pid = services.config.add_project("Shop")
    bulk_tasks(services, pid, 10)
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    view.show()
    assert view.model.rows[0][4] == "TODO"
    with services.store.session() as s:
        s.execute(update(Task).where(Task.task_id == "T1").values(status="DONE"))
    runner.finished.emit(999, JobResult(1, "succeeded", JobOutcome(True, "synced", {"unchanged": 10})))
    assert view.model.rows[0][4] == "TODO", "nothing local changed: no reload"
    runner.finished.emit(999, JobResult(2, "succeeded", JobOutcome(True, "synced", {"local_updated": 1})))
    assert view.model.rows[0][4] == "DONE"
