"""Start-up: the main window's shell paints before the store is imported; the slow part runs in a
worker thread while the shell keeps responding; the page on screen follows, the others when shown."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

import almdesk.app
from almdesk.app import App, Startup
from almdesk.errors import ConfigError, UserFacingError


def _untune(startup: Startup, qtbot: QtBot) -> None:
    """Startup tunes the process as it tunes the app's (settle_gc): wait for it, then undo it."""
    qtbot.waitUntil(lambda: startup.settled, timeout=5000)
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    sys.setswitchinterval(0.005)


def test_app_module_imports_no_store_keyring_or_http() -> None:
    code = ("import sys; import almdesk.app; "
            "print(sorted(m for m in ('sqlalchemy', 'alembic', 'keyring', 'requests', 'almdesk.services', "
            "'almdesk.demo', 'werkzeug') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert out == "[]"


def test_shell_first_then_pages(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered: list[bool] = []
    monkeypatch.setattr(App, "offer_demo", lambda self: offered.append(True))  # its modal box would block
    startup = Startup(str(tmp_path / "data"))
    window = startup.window
    qtbot.addWidget(window)
    assert not window.attached and not window.act_new.isEnabled()
    window.show()
    qtbot.waitUntil(lambda: startup.app is not None, timeout=20000)
    app = startup.app
    assert app is not None and window.attached and app.window is window
    assert window.stack.count() == 5 and window.act_new.isEnabled()
    # the page on screen is built; the others when first shown (or used)
    assert window.built("connectors") and window.stack.currentWidget() is window.connectors
    assert not any(window.built(name) for name in ("connections", "projects", "jobs"))
    # the keyring is opened by the worker after the hand-over; the status bar says so, then names it
    qtbot.waitUntil(lambda: window.keyring_label.text() == f"Keyring: {app.services.secrets.backend_name}",
                    timeout=10_000)
    qtbot.waitUntil(lambda: bool(offered), timeout=5000)  # empty store: the sandbox is offered
    window.nav.setCurrentRow(1)
    assert window.built("connections") and window.stack.currentWidget() is window.connections
    assert window.stack.count() == 5 and window.stack.currentIndex() == 1
    assert window.jobs.stale  # built on use; the Jobs page reads nothing until it is shown
    window.nav.setCurrentRow(3)
    assert not window.jobs.stale and window.stack.currentWidget() is window.jobs
    assert [window.stack.indexOf(p) for p in (window.connectors, window.connections, window.projects,
                                               window.jobs)] == [0, 1, 2, 3]
    app.runner.shutdown()
    app.services.close()
    _untune(startup, qtbot)


def test_shell_responds_while_loading(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow part of start-up runs in a worker thread: here it waits until an event-loop timer has
    fired five times, which cannot happen if it blocks the UI thread. Then the window fills."""
    monkeypatch.setattr(App, "offer_demo", lambda self: None)
    ticks: list[int] = []
    five_ticks = threading.Event()
    threads: list[threading.Thread] = []
    real_prepare = almdesk.app.prepare

    def slow_prepare(data_dir: str | None) -> object:
        threads.append(threading.current_thread())
        assert five_ticks.wait(timeout=15), "the UI thread's timer did not fire while start-up was loading"
        return real_prepare(data_dir)

    monkeypatch.setattr(almdesk.app, "prepare", slow_prepare)
    startup = Startup(str(tmp_path / "data"))
    window = startup.window
    qtbot.addWidget(window)
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        ticks.append(1)
        if len(ticks) >= 5:
            five_ticks.set()

    timer.timeout.connect(tick)
    timer.start()
    window.show()
    qtbot.waitUntil(lambda: startup.app is not None, timeout=30000)
    timer.stop()
    assert threads and threads[0] is not threading.main_thread()
    assert len(ticks) >= 5 and window.attached and window.act_new.isEnabled()
    assert window.stack.currentWidget() is window.connectors
    app = startup.app
    assert app is not None
    app.runner.shutdown()
    app.services.close()
    _untune(startup, qtbot)


def test_lighter_pyside_import_scan_gives_pyside_s_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheaper scan answers as PySide6's own for every module loaded in this process."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not hasattr(feature, "_mod_uses_pyside"):
        pytest.skip("this PySide6 has no per-import scan")
    original = getattr(feature._mod_uses_pyside, "pyside_scan", feature._mod_uses_pyside)  # a Startup ran
    monkeypatch.setattr(feature, "_mod_uses_pyside", original)  # restored after the test
    assert almdesk.app.lighten_pyside_import_hook()
    assert not almdesk.app.lighten_pyside_import_hook()  # once
    lighter = feature._mod_uses_pyside
    modules = [m for m in list(sys.modules.values()) if m is not None]
    assert len(modules) > 300
    answers = {m.__name__: lighter(m) for m in modules}
    assert answers == {m.__name__: original(m) for m in modules}
    assert answers["almdesk.ui.main_window"] and not answers["almdesk.services"] and not answers["sys"]


@pytest.mark.parametrize(("error", "message"), [
    (ConfigError("The store is from a newer almdesk.", "Upgrade almdesk."),
     "The store is from a newer almdesk.\n\nUpgrade almdesk."),
    (RuntimeError("boom"), "Start-up failed: RuntimeError: boom\n\nThis is a bug in almdesk; the log has the details."),
], ids=["store-refused", "bug"])
def test_a_start_up_failure_in_the_worker_is_reported_not_left_loading(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str) -> None:
    from PySide6.QtWidgets import QMessageBox

    from almdesk.services import Services

    def fail(*_args: object, **_kwargs: object) -> Services:
        raise error

    shown: list[str] = []
    monkeypatch.setattr(Services, "open", fail)
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    startup = Startup(str(tmp_path / "data"))
    qtbot.addWidget(startup.window)
    startup.window.show()
    qtbot.waitUntil(lambda: startup.exit_code is not None, timeout=20000)
    expected = error.exit_code if isinstance(error, UserFacingError) else UserFacingError.exit_code
    assert startup.exit_code == expected and startup.app is None
    assert shown == [message]
    assert not startup.window.attached
