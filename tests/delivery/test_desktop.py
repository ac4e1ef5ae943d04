"""Desktop behaviour: the display check, single instance (in-process and across processes), the tray
(running and next due syncs; close to tray, due syncs keep running), notifications of syncs and gates
(failures stay, successes can be muted), the crash dialog and its support bundle, the icon in About.

The app runs over the Jira sandbox with the real keyring and the real store; Qt offscreen.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from almdesk import desktop, sandbox
from almdesk.app import App
from almdesk.base.records import GateRequest
from almdesk.desktop import CrashReporter, SingleInstance, display_problem, instance_key
from almdesk.jobs.record import JobResult
from almdesk.paths import Paths
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.ui.tray import Notice

ALIAS = "payments"


@pytest.fixture
def jira() -> Iterator[SandboxServer]:
    server = serve(sandbox.create("jira", seed=7))
    yield server
    server.stop()


@pytest.fixture
def configured(services: Services, jira: SandboxServer) -> Services:
    """A Jira connector and an hourly connection that never synced (so it is due), two tasks."""
    from almdesk.sync.tasks_io import import_tasks

    desc = jira.describe()
    services.config.save_connector("Jira demo", "jira", desc["params"], desc["secrets"])
    pid = services.config.add_project("Payments")
    tasks = services.paths.root / "tasks.json"
    tasks.write_text('[{"task_id": "DT1", "title": "Protect tokens", "phase": "development", "priority": 9},'
                     ' {"task_id": "DT2", "title": "Validate input", "phase": "development", "priority": 9}]')
    import_tasks(services.store, pid, tasks)
    services.config.save_connection(ALIAS, "Jira demo", "Payments", desc["connection_params"], frequency="hourly")
    return services


def make_app(qtbot: QtBot, services: Services, *, tray: bool) -> App:
    app = App(services, tray=tray)
    qtbot.addWidget(app.window)
    return app


# --- no display ---------------------------------------------------------------------------------
def test_display_problem() -> None:
    assert display_problem({}, "linux") is not None and "headless" in display_problem({}, "linux")  # type: ignore[operator]
    assert display_problem({"DISPLAY": ":4711"}, "linux") is not None  # no X server there
    assert display_problem({"DISPLAY": "remote:10.0"}, "linux") is None  # SSH forwarding: trusted
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


def test_gui_without_display_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for command in ([sys.executable, "-m", "almdesk.cli", "--data-dir", str(tmp_path)],
                    [sys.executable, "-m", "almdesk.app", "--data-dir", str(tmp_path), "--demo"]):
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "no display" in lines[0] and "almdesk --help" in lines[0], run.stderr


# --- single instance ----------------------------------------------------------------------------
def test_a_second_launch_raises_the_first(qtbot: QtBot, tmp_path: Path) -> None:
    key = instance_key(Paths.resolve(tmp_path / "data").root)
    first = SingleInstance(key)
    assert first.claim()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    second = subprocess.Popen([sys.executable, "-m", "almdesk.app", "--data-dir", str(tmp_path / "data")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        qtbot.waitSignal(first.activated, timeout=30_000).wait()
        # the first answers once its slots ran; the second then exits 0
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)
    finally:
        if second.poll() is None:  # it took itself for the first instance: do not leave its window running
            second.kill()
    out, err = second.communicate()
    assert second.returncode == 0, err
    assert out.strip() == "almdesk is already running: its window was raised."
    first.close()


def test_activation_raises_a_hidden_window(qtbot: QtBot, configured: Services) -> None:
    app = make_app(qtbot, configured, tray=False)
    first = SingleInstance(instance_key(configured.paths.root) + "-raise")
    assert first.claim()
    first.activated.connect(lambda: desktop.raise_window(app.window))
    assert not app.window.isVisible()
    first.activated.emit()
    assert app.window.isVisible()
    first.close()
    app.close()


def test_a_stale_socket_does_not_block_the_next_start(tmp_path: Path) -> None:
    key = instance_key(tmp_path) + "-stale"
    path = Path(QDir.tempPath()) / key
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))  # what a crashed instance leaves: the file, nobody listening
    dead.close()
    try:
        instance = SingleInstance(key)
        assert instance.claim()
        assert instance.server.isListening()
        instance.close()
    finally:
        path.unlink(missing_ok=True)


# --- tray, close to tray, due syncs, notifications ------------------------------------------------
def test_tray_close_to_tray_and_due_syncs(qtbot: QtBot, configured: Services,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(qtbot, configured, tray=True)
    assert app.tray is not None
    tray = app.tray
    lines = tray.lines()
    assert lines[0] == "No job running" and lines[1].startswith(f"Next sync: {ALIAS} at ")
    app.window.show()
    app.window.close()  # with a tray: hidden there, not closed
    assert not app.window.isVisible() and not app.window.quitting
    assert not QApplication.quitOnLastWindowClosed()

    notices: list[Notice] = []
    app.notifier.notified.connect(notices.append)
    with qtbot.waitSignal(app.notifier.notified, timeout=60_000):
        app.run_due()  # what the scheduler's timer calls, the window hidden
        assert f"Running: Sync {ALIAS}" in tray.icon.toolTip()
        assert tray.status_actions[0].text() == f"Running: Sync {ALIAS}"
    [notice] = notices
    assert notice.title == f"Sync finished: Sync {ALIAS}" and not notice.sticky, notice
    assert tray.lines()[0] == "No job running"
    assert configured.config.connection(ALIAS).id not in app.runner.jobs

    tray.act_show.trigger()
    assert app.window.isVisible()
    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))  # would end every event loop
    tray.act_quit.trigger()
    assert quits == [True] and not app.window.isVisible() and app.window.quitting
    QApplication.setQuitOnLastWindowClosed(True)
    app.close()


def test_failures_stay_successes_can_be_muted(qtbot: QtBot, configured: Services) -> None:
    app = make_app(qtbot, configured, tray=False)
    app.window.show()
    notifier = app.notifier
    notices: list[Notice] = []
    notifier.notified.connect(notices.append)
    failing = GateRequest(threshold=0, operator="<=")  # the sandbox has open bugs

    with qtbot.waitSignal(notifier.notified, timeout=60_000):
        app.runner.submit(configured.gate_spec(failing, connection=ALIAS))
    assert notices[-1].failed and notices[-1].sticky and notices[-1].title.startswith("Gate failed")
    box = notifier.failure_box
    assert box is not None and box.isVisible() and "Gate failed" in box.text()
    with qtbot.waitSignal(notifier.notified, timeout=60_000):
        app.runner.submit(configured.gate_spec(failing, connection=ALIAS))
    assert notifier.failure_box is box and box.text().count("Gate on payments") == 2  # still open, one box

    notifier.mute_action.setChecked(False)  # View → Notify when syncs and gates succeed: off
    assert notifier.muted
    with qtbot.waitSignal(app.runner.finished, timeout=60_000) as done:
        app.runner.submit(configured.sync_spec(ALIAS))
    assert isinstance(done.args[1], JobResult) and done.args[1].state == "succeeded"
    assert len(notices) == 2  # the success was not told

    notifier.mute_action.setChecked(True)
    with qtbot.waitSignal(notifier.notified, timeout=60_000):
        app.runner.submit(configured.sync_spec(ALIAS))
    assert not notices[-1].failed and app.window.statusBar().currentMessage().startswith("Sync finished")
    box.close()
    assert not box.isVisible()  # dismissed by the user, not by a timer
    app.close()

    again = make_app(qtbot, configured, tray=False)  # the setting is kept in ui.ini
    notifier2 = again.notifier
    notifier2.set_muted(True)
    assert type(notifier2)(again.runner, again.window, notifier2.settings).muted
    again.close()


# --- crash dialog, About --------------------------------------------------------------------------
def test_crash_dialog_logs_and_offers_a_bundle(qtbot: QtBot, configured: Services) -> None:
    from almdesk.bundle import support_bundle

    app = make_app(qtbot, configured, tray=False)
    reporter = CrashReporter(lambda: app.window, lambda: support_bundle(configured, out_dir=configured.paths.bundles))
    reporter.install()
    try:
        try:
            {}["missing"]  # the bug
        except KeyError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
        assert sys.excepthook is reporter
    finally:
        reporter.uninstall()
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_almdesk", False)]  # the app's log file
    handler.flush()
    text = Path(handler.baseFilename).read_text()  # type: ignore[attr-defined]
    assert "unhandled exception" in text and "KeyError: 'missing'" in text and "Traceback" in text
    box = reporter.dialog
    assert box is not None and box.isVisible() and "KeyError" in box.text()
    assert "Traceback" in box.detailedText()
    reporter.bundle_button.click()  # type: ignore[attr-defined]
    assert reporter.result is not None and reporter.result.text().startswith("Support bundle written to ")
    zips = list(configured.paths.bundles.glob("almdesk-support-*.zip"))
    assert len(zips) == 1 and str(zips[0]) in reporter.result.text()
    app.close()


def test_window_and_about_show_the_icon(qtbot: QtBot, configured: Services) -> None:
    app = make_app(qtbot, configured, tray=False)
    assert sorted(s.width() for s in app.window.windowIcon().availableSizes()) == list(desktop.ICON_SIZES)
    app.window.about()
    assert not app.window.about_box.iconPixmap().isNull()
    assert desktop.APP_ID in app.window.about_box.text()
    app.close()
