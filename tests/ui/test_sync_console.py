"""The sync console: a real dry run and sync against the Octane sandbox, cancel, and 5,000 live events."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.history import get_job
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_console import SyncConsole
from almdesk.ui.sync_rows import Eta
from tests.ui.conftest import OctaneEnv, add_tasks

Shot = Callable[[QWidget, str], Path]


def open_console(qtbot: QtBot, services: Services, runner: JobRunner, spec: JobSpec,
                 parent: QWidget | None = None) -> SyncConsole:
    console = SyncConsole(services, runner, spec, parent)
    if parent is None:
        qtbot.addWidget(console)
    console.show()  # submits the job
    assert console.handle is not None
    return console


def wait_done(qtbot: QtBot, console: SyncConsole, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: console.finished_at > 0 and console.drained(), timeout=timeout)


def test_dry_run_shows_the_plan_then_sync_creates_items(qtbot: QtBot, services: Services, runner: JobRunner,
                                                        octane: OctaneEnv, shot: Shot) -> None:
    add_tasks(services, octane.project_id, 40)
    console = open_console(qtbot, services, runner, services.sync_spec(octane.connection_id, dry_run=True))
    assert "nothing is written" in console.heading.text()
    wait_done(qtbot, console)
    result = console.job_result
    assert result is not None and result.state == "succeeded", result and result.outcome.message
    plan = result.outcome.data["plan"]
    creates = [p for p in plan if p["action"] == "create"]
    assert creates, "tasks in scope have no item yet"
    assert console.model.rowCount() == len(plan)
    first = console.model.rows[0]
    assert plan[0]["task_id"] in first[0] and first[0].count(plan[0]["task_id"] + ":") == 1
    assert first[1] == plan[0]["action"]
    assert f"{len([p for p in plan if p['action'] not in ('skip', 'link')])} planned change(s)" in \
        console.counters.text()
    assert console.summary.isVisible() and "nothing was written" in console.summary.text()
    assert not console.cancel_btn.isVisible()
    shot(console, "sync_dry_run")

    console.close()
    console = open_console(qtbot, services, runner, services.sync_spec(octane.connection_id))
    wait_done(qtbot, console)
    result = console.job_result
    assert result is not None and result.state == "succeeded", result and result.outcome.message
    created = result.outcome.counts.get("created", 0)
    assert created == len(creates)
    assert f"{created} created" in console.counters.text()
    rows = console.model.rows
    made = [r for r in rows if r[1] == "create" and r[3] == "ok"]
    assert len(made) == created and all(r[2] and r[2] != "open ↗" for r in made), "the ALM key is shown"
    i = rows.index(made[0])
    assert console.model.urls[i].startswith(octane.server.url)
    opened: list[QUrl] = []
    console.table.opener = opened.append
    console.table.clicked.emit(console.view_index(i, 2))
    assert opened and opened[0].toString() == console.model.urls[i]
    assert console.bar.value() == console.bar.maximum()
    assert "✔" in console.summary.text()
    console.show_combo.setCurrentIndex(2)  # failures only
    assert console.proxy.rowCount() == 0
    console.show_combo.setCurrentIndex(0)
    shot(console, "sync_done")


def events_job(n: int, shown: threading.Event) -> Callable[[JobContext], JobOutcome]:
    """A job that reports ``n`` per-item events as fast as it can (a sync's worst case for the UI); halfway
    it waits until the UI has shown rows (``shown``, set from the UI thread)."""

    def run(ctx: JobContext) -> JobOutcome:
        for i in range(n):
            ctx.check_cancelled()
            if i == n // 2:
                assert shown.wait(10), "the console showed no row while the job ran"
            if i % 10 == 9:
                ctx.event(f"T{i} Task {i}", "create", "failed", "ALM Octane refused the item (HTTP 400).")
            else:
                ctx.event(f"T{i} Task {i}", "create", "ok", f"created {1000 + i}", f"http://alm.example/{1000 + i}")
            ctx.progress(i + 1, n, "Creating defects")
        return JobOutcome(False, f"{n} items: {n // 10} failed", {"created": n - n // 10, "failed": n // 10})

    return run


def test_5000_events_stay_responsive(qtbot: QtBot, services: Services, runner: JobRunner, shot: Shot) -> None:
    """The UI thread draws rows while the job still runs (a timer tick sees them before the job's second
    half), then every event. The event-loop stall figures are ``bench/ui_stall.py``'s."""
    n = 5000
    shown = threading.Event()
    rows_while_running: list[int] = []

    def tick() -> None:
        if console.finished_at == 0 and console.model.rowCount() > 0 and not shown.is_set():
            rows_while_running.append(console.model.rowCount())
            shown.set()

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    console = open_console(qtbot, services, runner, JobSpec("sync", "Sync big", events_job(n, shown)))
    probe.start()
    wait_done(qtbot, console)
    probe.stop()
    assert rows_while_running and 0 < rows_while_running[0] <= n // 2, rows_while_running
    assert console.model.rowCount() == n and console.events_seen == n
    assert console.counts["created"] == n - n // 10 and console.counts["failed"] == n // 10
    assert f"{n // 10} failed" in console.counters.text()
    assert console.phase.text() == "Finished with failures." and "✖" in console.summary.text()
    console.show_combo.setCurrentIndex(2)
    assert console.proxy.rowCount() == n // 10
    job = get_job(services.store, console.job_result.job_id if console.job_result else -1)
    assert job is not None and job["state"] == "failed"
    shot(console, "sync_5000")


def test_cancel_stops_the_sync(qtbot: QtBot, services: Services, runner: JobRunner, shot: Shot) -> None:
    """Cancel takes effect at the job's next check: no event after it."""
    go = threading.Event()

    def slow(ctx: JobContext) -> JobOutcome:
        for i in range(100_000):
            ctx.check_cancelled()
            ctx.event(f"T{i}", "create", "ok", f"created {i}")
            ctx.progress(i + 1, 100_000, "Creating")
            if i == 9:
                assert go.wait(10), "the test never let the job go on"
        return JobOutcome(True, "done")

    console = open_console(qtbot, services, runner, JobSpec("sync", "Sync slow", slow))
    qtbot.waitUntil(lambda: console.model.rowCount() == 10, timeout=10000)
    assert console.cancel_btn.isEnabled()
    console.cancel_btn.click()
    assert "Cancelling" in console.phase.text()
    go.set()
    wait_done(qtbot, console)
    assert console.job_result is not None and console.job_result.state == "cancelled"
    assert console.model.rowCount() == 10  # nothing after the cancel
    assert console.phase.text() == "Cancelled." and "resumes" in console.summary.text()
    shot(console, "sync_cancelled")


def test_long_sync_in_background_notifies(qtbot: QtBot, services: Services, runner: JobRunner) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()

    def quick(ctx: JobContext) -> JobOutcome:
        ctx.event("T1 One", "create", "ok", "created 7")
        return JobOutcome(True, "Sync finished: 1 created.")

    for active in (False, True):
        console = SyncConsole(services, runner, JobSpec("sync", "Sync quick", quick), window)
        console.notify_after = -1.0  # treat it as long
        console.isActiveWindow = lambda active=active: active  # type: ignore[method-assign]
        console.show()
        qtbot.waitUntil(lambda console=console: console.finished_at > 0, timeout=10000)
        if active:
            assert console.notified == "", "the user is looking at it: no notification"
        else:
            assert console.notified in ("tray", "status bar")
            if console.notified == "status bar":
                assert "Sync quick: finished" in window.statusBar().currentMessage()
        console.close()


def test_eta_and_closing_mid_run(qtbot: QtBot, services: Services, runner: JobRunner) -> None:
    go = threading.Event()

    def paced(ctx: JobContext) -> JobOutcome:
        for i in range(400):
            ctx.check_cancelled()
            ctx.event(f"T{i}", "create", "ok", f"created {i}")
            ctx.progress(i + 1, 400, "Creating")
            if i == 3:
                assert go.wait(10), "the test never let the job go on"
        return JobOutcome(True, "done")

    console = open_console(qtbot, services, runner, JobSpec("sync", "Sync paced", paced))
    qtbot.waitUntil(lambda: console.model.rowCount() > 3, timeout=10000)
    assert console.handle is not None
    now = [1000.0]
    console.eta_clock = Eta(lambda: now[0])  # the rate starts at the first item, on the test's clock
    console._on_progress(console.handle, 4, 400, "Creating defects")
    assert console.eta.text() == "estimating…"
    now[0] += 10.0  # 100 more items in 10 s: 10 s per 100, 296 to go
    console._on_progress(console.handle, 104, 400, "Creating defects")
    console._paint_progress()  # the bar is painted on the console's timer
    assert console.eta.text() == "about 30 s left" and console.phase.text() == "Creating defects"
    assert console.bar.maximum() == 400 and console.bar.value() == 104
    with qtbot.waitSignal(runner.finished, timeout=20000) as blocker:
        console.close()  # the job goes on without its console
        go.set()
    assert blocker.args[1].state == "succeeded"
    assert blocker.args[1].outcome.message == "done"


def test_waiting_tasks_are_counted_and_coloured(qtbot: QtBot, services: Services, runner: JobRunner,
                                                 octane: OctaneEnv, shot: Shot) -> None:
    """A task whose earlier create timed out (journaled as unknown fate) shows as waiting, not created."""
    from sqlalchemy import select

    from almdesk.models.tables import Task
    from almdesk.sync.journal import UNKNOWN, Journal

    add_tasks(services, octane.project_id, 10)
    dry = open_console(qtbot, services, runner, services.sync_spec(octane.connection_id, dry_run=True))
    wait_done(qtbot, dry)
    assert dry.job_result is not None
    task_id = next(p["task_id"] for p in dry.job_result.outcome.data["plan"] if p["action"] == "create")
    dry.close()
    with services.store.session() as s:
        pk = s.scalar(select(Task.id).where(Task.project_id == octane.project_id, Task.task_id == task_id))
    journal = Journal(services.store, octane.connection_id)
    entry = journal.begin("create", [(pk, "")])[0]
    with services.store.session() as s:
        Journal.finish_many(s, [(entry, UNKNOWN, "")], timeout=60.0)

    console = open_console(qtbot, services, runner, services.sync_spec(octane.connection_id))
    wait_done(qtbot, console)
    result = console.job_result
    assert result is not None and result.state == "succeeded", result and result.outcome.message
    assert result.outcome.counts["waiting"] == 1
    assert "1 waiting" in console.counters.text()
    rows = console.model.rows
    waits = [i for i, r in enumerate(rows) if r[3] == "waiting"]
    assert len(waits) == 1 and task_id in rows[waits[0]][0] and rows[waits[0]][1] == "wait"
    assert not any(task_id in r[0] and r[1] == "create" for r in rows), "not created again"
    assert console.model.colors[waits[0]] == "warning"
    shot(console, "sync_waiting")
