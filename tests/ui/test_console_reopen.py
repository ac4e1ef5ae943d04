"""The sync console and the job dock: the bar agrees with the counters after a burst, no wild first ETA, the
console reopens from the dock with the rows so far, the dock opens other jobs' details, the Jobs page
searches and writes local times with the zone."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.ui.dialogs import local_time
from almdesk.ui.job_dock import JobDock
from almdesk.ui.jobs_view import JobDetailsDialog, JobsView
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_console import SyncConsole

Shot = Callable[[QWidget, str], Path]
BURST = 50


def burst_job(go: threading.Event, total: int = 2000) -> Callable[[JobContext], JobOutcome]:
    """Creates ``BURST`` items, reports them at once (a sync's chunk), then waits for ``go``."""

    def run(ctx: JobContext) -> JobOutcome:
        for i in range(BURST):
            ctx.event(f"T{i} Task {i}", "create", "ok", f"created {100 + i}", f"http://alm.example/{100 + i}",
                      key=str(100 + i))
        for i in range(BURST):
            ctx.progress(i + 1, total, "Creating defects")
        assert go.wait(20), "the test never let the job go on"
        ctx.check_cancelled()
        ctx.progress(total, total, "Sync finished")
        return JobOutcome(True, f"{BURST} created", {"created": BURST})

    return run


@pytest.fixture
def go() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # never leave a job waiting


def test_bar_agrees_with_the_counters_after_a_burst(qtbot: QtBot, services: Services, runner: JobRunner,
                                                    go: threading.Event) -> None:
    console = SyncConsole(services, runner, JobSpec("sync", "Sync burst", burst_job(go)))
    qtbot.addWidget(console)
    console.show()
    qtbot.waitUntil(lambda: f"{BURST} created" in console.counters.text(), timeout=10000)
    # the job now waits: the last progress of the burst must still reach the bar
    qtbot.waitUntil(lambda: console.bar.value() == BURST, timeout=5000)
    assert console.bar.maximum() == 2000
    with qtbot.waitSignal(runner.finished, timeout=10000):
        go.set()


def test_no_wild_eta_after_the_first_item(qtbot: QtBot, services: Services, runner: JobRunner,
                                          go: threading.Event) -> None:
    console = SyncConsole(services, runner, JobSpec("sync", "Sync burst", burst_job(go)))
    qtbot.addWidget(console)
    console.show()
    qtbot.waitUntil(lambda: console.started > 0, timeout=10000)
    assert console.handle is not None
    console.started -= 12.0  # 12 s of connecting and planning before the first item
    console.eta_clock.start = None
    console._on_progress(console.handle, 1, 2000, "Creating defects")
    assert console.eta.text() == "estimating…", console.eta.text()
    with qtbot.waitSignal(runner.finished, timeout=10000):
        go.set()


def test_dock_reopens_the_sync_console_with_the_rows_so_far(qtbot: QtBot, services: Services,
                                                            runner: JobRunner, go: threading.Event,
                                                            shot: Shot) -> None:
    dock = JobDock(services, runner)
    qtbot.addWidget(dock)
    console = SyncConsole(services, runner, JobSpec("sync", "Sync burst", burst_job(go)))
    console.show()
    handle = console.handle
    assert handle is not None
    qtbot.waitUntil(lambda: console.model.rowCount() == BURST, timeout=10000)
    assert dock.open_job(handle) is console, "the open console is raised, not doubled"
    console.close()  # the job goes on without its console
    assert runner.view(handle) is None
    assert runner.job(handle) is not None
    reopened = dock.open_job(handle)
    assert isinstance(reopened, SyncConsole) and reopened.handle == handle
    qtbot.addWidget(reopened)
    qtbot.waitUntil(lambda: reopened.drained() and reopened.model.rowCount() == BURST, timeout=5000)
    assert f"{BURST} created" in reopened.counters.text()
    menu = reopened.table.menu_for(reopened.view_index(0, 0))  # a row's link: Open link, Copy link
    assert menu is not None and "&Copy link" in [a.text() for a in menu.actions()]
    qtbot.waitUntil(lambda: reopened.bar.value() == BURST, timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        go.set()
    qtbot.waitUntil(lambda: reopened.finished_at > 0, timeout=5000)
    assert reopened.job_result is not None and reopened.job_result.state == "succeeded"
    assert "✔" in reopened.summary.text()
    shot(reopened, "sync_reopened")
    # once it ended the dock opens its details instead
    details = dock.open_job(handle)
    assert isinstance(details, JobDetailsDialog)
    qtbot.addWidget(details)
    assert details.details.current is not None and details.details.current["kind"] == "sync"
    assert details.details.event_model.rowCount() == BURST


def test_dock_opens_details_of_other_jobs(qtbot: QtBot, services: Services, runner: JobRunner) -> None:
    dock = JobDock(services, runner)
    qtbot.addWidget(dock)

    def quick(ctx: JobContext) -> JobOutcome:
        ctx.event("step", "check", "ok", "fine")
        return JobOutcome(True, "All fine.")

    with qtbot.waitSignal(runner.finished, timeout=10000):
        handle = runner.submit(JobSpec("test-connector", "Test quick", quick))
    item = dock.item_of(handle)
    assert item is not None
    dock.tree.itemActivated.emit(item, 0)  # double-click / Enter
    opened = dock.opened
    assert isinstance(opened, JobDetailsDialog) and opened.isVisible()
    qtbot.addWidget(opened)
    assert "All fine." in opened.details.detail.text()


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset on this platform")
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_local_with_the_zone(paris: None) -> None:
    from datetime import UTC, datetime

    assert local_time(datetime(2026, 12, 3, 15, 4, tzinfo=UTC)) == "2026-12-03 16:04 CET"
    assert local_time("2026-12-03T15:04:05") == "2026-12-03 16:04 CET", "the store's naive times are UTC"
    assert local_time(datetime(2026, 7, 1, 10, 0, 30, tzinfo=UTC), seconds=True) == "2026-07-01 12:00:30 CEST"
    assert local_time(None) == ""


def test_jobs_page_searches_and_shows_local_times(qtbot: QtBot, services: Services, runner: JobRunner,
                                                  paris: None) -> None:
    for title, message in (("Test alpha", "alpha went fine"), ("Test beta", "beta went fine")):
        with qtbot.waitSignal(runner.finished, timeout=10000):
            runner.submit(JobSpec("test-connector", title, lambda _ctx, m=message: JobOutcome(True, m)))
    view = JobsView(services)
    qtbot.addWidget(view)
    view.show()
    assert view.job_model.rowCount() == 2
    started = view.job_model.rows[0][1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", started), started
    assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d CES?T", view.detail.text())
    view.search.setText("BETA")
    assert [r[6] for r in view.job_model.rows] == ["beta went fine"]
    assert view.current is not None and view.current["title"] == "Test beta"
    assert view.count_label.text().startswith("1 of 2")
    view.search.setText("nothing like it")
    assert view.job_model.rowCount() == 0 and view.title.text() == "No job matches the filters."


def test_jobs_page_opens_the_console_of_a_running_sync(qtbot: QtBot, services: Services, runner: JobRunner,
                                                      go: threading.Event) -> None:
    with qtbot.waitSignal(runner.started, timeout=10000):
        handle = runner.submit(JobSpec("sync", "Sync burst", burst_job(go)))
    qtbot.waitUntil(lambda: len(getattr(runner.job(handle), "events", [])) == BURST, timeout=10000)
    view = JobsView(services, runner)
    qtbot.addWidget(view)
    view.show()
    assert view.current is not None and view.current["state"] == "running"
    assert view.console_btn.isVisible()
    console = view.open_console()
    assert isinstance(console, SyncConsole) and console.handle == handle
    qtbot.addWidget(console)
    qtbot.waitUntil(lambda: console.model.rowCount() == BURST, timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        go.set()
    view.reload()
    assert not view.console_btn.isVisible() and view.open_console() is None, "ended: the details say it all"
