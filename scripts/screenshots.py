"""Screenshots of the real window under Xvfb (xcb): light and dark, 1024×700 and 1600×1000, into docs/screenshots/.

Usage: ``.venv/bin/python scripts/screenshots.py [OUT_DIR] [--only light-1024x700,…] [--display 62]``

Without a Secret Service session it re-runs itself under ``scripts/with-keyring``. For every theme × size it
starts ``Xvfb :N`` with a screen of exactly that size and a child process (``--child THEME WxH``) that opens
the demo app (``App`` over the sandboxes, ``--theme`` as given, window at 0,0 filling the screen) and goes
through the scenario below; every shot is the X server's screen (``import -window root``), so dialogs are
seen over the main window as a user sees them. The main actions are driven by the keyboard through
``xdotool`` (Ctrl+1…5, Ctrl+T, Ctrl+Shift+R, Ctrl+G, Ctrl+D, F5) into the focused window; form values are
set through the widgets (typing is slow and layout-dependent) — a shot whose window did not appear is
reported and skipped, never faked.

Shots (``THEME-WxH-NAME.png``): ``connector-testing`` (Test Connection mid-way: the sandbox answers slowly),
``connector-failed-field`` (a bad Location, saved: the field's error), ``connection-form``, ``sync-console``
(a dry run, finished), ``gate-passed``, ``gate-failed``, ``gate-could-not-run`` (an unknown release),
``create-defect`` (the form filled), ``jobs``, ``projects``, ``server``. Secrets never appear: secret fields show only a "stored in
the keyring" placeholder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
THEMES = ("light", "dark")
SIZES = ((1024, 700), (1600, 1000))


# --- the parent: one Xvfb and one child per theme × size ------------------------------------------
def start_xvfb(display: int, width: int, height: int) -> subprocess.Popen[bytes]:
    socket = Path(f"/tmp/.X11-unix/X{display}")
    if socket.exists():
        raise SystemExit(f"display :{display} is in use; pick another with --display")
    proc = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"Xvfb :{display} did not start")
        time.sleep(0.05)  # Xvfb has no readiness signal but its socket
    return proc


def parent(out: Path, only: set[str], display: int) -> int:
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y xvfb xdotool imagemagick")
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for theme in THEMES:
        for width, height in SIZES:
            combo = f"{theme}-{width}x{height}"
            if only and combo not in only:
                continue
            xvfb = start_xvfb(display, width, height)
            try:
                env = {**os.environ, "DISPLAY": f":{display}", "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
                env.pop("ALMDESK_DEMO", None)
                code = subprocess.call([sys.executable, __file__, str(out), "--child", theme, f"{width}x{height}"],
                                       env=env, cwd=ROOT, timeout=600)
                failed += code != 0
                print(f"{combo}: {'done' if code == 0 else f'child exited {code}'}", flush=True)
            finally:
                xvfb.terminate()
                xvfb.wait()
    print(f"screenshots in {out}")
    return 1 if failed else 0


# --- the child: the demo app in this process, driven by keys, shot by the X server -----------------
class Driver:
    """Runs the Qt event loop while waiting, sends keys with xdotool, saves the X screen."""

    def __init__(self, out: Path, prefix: str) -> None:
        self.out = out
        self.prefix = prefix
        self.shots: list[str] = []
        self.missed: list[str] = []

    def pump(self, ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(self, predicate: Callable[[], object], timeout_ms: int = 30_000) -> bool:
        deadline = time.monotonic() + timeout_ms / 1000
        while not predicate():
            if time.monotonic() > deadline:
                return False
            self.pump(50)
        return True

    def keys(self, window: Any, *keys: str) -> None:
        """Focus ``window`` (a QWidget's X window) and type ``keys`` (xdotool names, e.g. ``ctrl+t``)."""
        wid = str(int(window.winId()))
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=False, timeout=10)
        self.pump(100)
        for key in keys:
            subprocess.run(["xdotool", "key", "--clearmodifiers", key], check=False, timeout=10)
            self.pump(150)

    def shot(self, name: str, settle_ms: int = 400) -> None:
        self.pump(settle_ms)
        path = self.out / f"{self.prefix}-{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
        self.shots.append(path.name)

    def miss(self, name: str, why: str) -> None:
        self.missed.append(f"{name}: {why}")
        print(f"  skipped {self.prefix}-{name}: {why}", flush=True)


def set_value(widget: Any, value: str) -> None:
    """Put ``value`` in a line edit, a server-backed picker, an (editable) combo box or a spin box."""
    from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QSpinBox, QTextEdit

    from almdesk.ui.field_editors import ServerPicker

    if isinstance(widget, ServerPicker):
        widget.set_text(value)
    elif isinstance(widget, QLineEdit):
        widget.setText(value)
    elif isinstance(widget, QComboBox):
        index = widget.findText(value)
        if index >= 0:
            widget.setCurrentIndex(index)
        elif widget.isEditable():
            widget.setEditText(value)
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QPlainTextEdit | QTextEdit):
        widget.setPlainText(value)


def top_level(kind: str) -> Any:
    from PySide6.QtWidgets import QApplication

    shown = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == kind and w.isVisible()]
    return shown[-1] if shown else None


def child(out: Path, theme_name: str, size: str) -> int:
    from PySide6.QtWidgets import QApplication

    from almdesk.app import App
    from almdesk.sandbox.base import Latency
    from almdesk.services import Services
    from almdesk.ui import theme

    width, height = (int(v) for v in size.split("x"))
    qapp = QApplication([sys.argv[0]])
    theme.apply_theme(qapp, theme_name)
    drive = Driver(out, f"{theme_name}-{size}")
    with tempfile.TemporaryDirectory() as data:
        services = Services.open(data)
        app = App(services, demo=True, tray=False)
        window = app.window
        window.move(0, 0)
        window.resize(width, height)
        window.show()
        if not drive.wait_for(lambda: bool(app.demo.servers) and window.connectors.count() > 0, 60_000):
            print("the demo did not start", file=sys.stderr)
            return 1
        drive.pump(800)
        octane = next((s for s in app.demo.servers if s.app.system == "octane"), None)
        try:
            scenario(drive, app, octane, Latency)
        finally:
            for w in QApplication.topLevelWidgets():
                if w is not window and w.isVisible():
                    w.close()
            window.quitting = True
            app.close()
    print(f"  {drive.prefix}: {len(drive.shots)} shots" + (f", {len(drive.missed)} skipped" if drive.missed else ""))
    return 0


def gate_done(gate: Any) -> bool:
    """The gate dialog shows a verdict or an input's error, and is not running."""
    errors = getattr(gate, "errors", {}).values()
    return not gate.cancel_btn.isEnabled() and bool(gate.verdict.text() or any(e.isVisible() for e in errors))


def close_notices() -> None:
    """The no-tray failure notices (a gate that failed on purpose) are closed before the next shot."""
    from PySide6.QtWidgets import QApplication

    for w in QApplication.topLevelWidgets():
        if w.objectName() == "failure_notice" and w.isVisible():
            w.close()


def scenario(drive: Driver, app: Any, octane: Any, latency: Any) -> None:
    window = app.window
    # 1. Connectors: Test Connection mid-way (the Octane sandbox answers each request after 0.6 s)
    drive.keys(window, "ctrl+1")
    window.connectors.select_row(0)
    editor = window.connectors.editor
    drive.pump(300)
    if octane is not None:
        octane.app.latency = latency(0.6, 0.0)
    drive.keys(window, "ctrl+t")
    steps = getattr(editor.steps, "tree", None)
    if drive.wait_for(lambda: editor._test_handle is not None and steps is not None and steps.topLevelItemCount() >= 2,
                      15_000):
        drive.shot("connector-testing", 200)
    else:
        drive.miss("connector-testing", "the test did not start or had no steps")
    if octane is not None:
        octane.app.latency = latency(0.0, 0.0)
    drive.wait_for(lambda: editor._test_handle is None, 30_000)
    # 2. a failed field: a Location that is not a URL, saved
    info = editor.info
    try:
        editor.form.set_value("location", "octane.example.com/ui")
        editor.save_btn.click()
        drive.wait_for(lambda: editor.form.first_error() is not None, 5_000)
        if editor.form.first_error() is not None:
            drive.shot("connector-failed-field")
        else:
            drive.miss("connector-failed-field", "no field error was shown")
    except (AttributeError, KeyError) as exc:
        drive.miss("connector-failed-field", f"the form changed: {exc}")
    editor.load(info)  # discard the bad value
    editor._set_dirty(False)
    # 3. Connections: the connection form
    drive.keys(window, "ctrl+2")
    page = window.connections
    items = [page.list.topLevelItem(i) for i in range(page.list.topLevelItemCount())]
    octane_rows = [item for item in items if item is not None and "octane" in item.text(1).lower()]
    if octane_rows or items:
        page.list.setCurrentItem((octane_rows or items)[0])
    drive.shot("connection-form")
    # 4. the sync console of a dry run (Ctrl+Shift+R), finished
    drive.keys(window, "ctrl+shift+r")
    if drive.wait_for(lambda: top_level("SyncConsole") is not None, 10_000):
        console = top_level("SyncConsole")
        drive.wait_for(lambda: getattr(console, "job_result", None) is not None, 60_000)
        close_notices()
        drive.shot("sync-console", 600)
        console.close()
    else:
        drive.miss("sync-console", "the console did not open")
    # 5. the gate: passed, failed, could not run (Ctrl+G on the connection)
    for name, release, operator, threshold in (("gate-passed", "Release 24.1", "<", "1000"),
                                               ("gate-failed", "Release 24.2", "<=", "0"),
                                               ("gate-could-not-run", "Release 99", "<=", "0")):
        drive.keys(window, "ctrl+g")
        if not drive.wait_for(lambda: top_level("GateDialog") is not None, 10_000):
            drive.miss(name, "the gate dialog did not open")
            continue
        gate = top_level("GateDialog")
        for attr, value in (("release", release), ("operator", operator), ("threshold", threshold)):
            if hasattr(gate, attr):
                set_value(getattr(gate, attr), value)
        drive.pump(200)
        drive.keys(gate, "alt+r")  # &Run gate
        drive.wait_for(partial(gate_done, gate), 30_000)
        close_notices()
        drive.shot(name, 500)
        gate.close()
        drive.pump(200)
    # 6. Create Defect (Ctrl+D), filled in, not submitted
    drive.keys(window, "ctrl+d")
    if drive.wait_for(lambda: top_level("DefectDialog") is not None, 10_000):
        defect = top_level("DefectDialog")
        for attr, value in (("name", "Checkout fails on an empty cart"),
                            ("description", "Steps: open the cart with no items, press Checkout.\n"
                                            "Expected: a message. Actual: an error page."),
                            ("release", "Release 24.2"), ("severity", "High"), ("phase", "New")):
            if hasattr(defect, attr):
                set_value(getattr(defect, attr), value)
        drive.shot("create-defect")
        defect.close()
    else:
        drive.miss("create-defect", "the dialog did not open")
    # 7. Jobs (Ctrl+4, F5)
    drive.keys(window, "ctrl+4", "F5")
    drive.shot("jobs")
    # 8. Projects (Ctrl+3) and the SD Elements Server page (Ctrl+5)
    drive.keys(window, "ctrl+3")
    drive.shot("projects")
    drive.keys(window, "ctrl+5")
    drive.shot("server")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", default="", help="comma-separated THEME-WxH, e.g. dark-1024x700")
    parser.add_argument("--display", type=int, default=62, help="the Xvfb display to use (default :62)")
    parser.add_argument("--child", nargs=2, metavar=("THEME", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if args.child:
        return child(out, *args.child)
    if not os.environ.get("ALMDESK_SECRET_SERVICE"):  # the real keyring, in a private session
        return subprocess.call([str(ROOT / "scripts" / "with-keyring"), sys.executable, *sys.argv])
    return parent(out, {s for s in args.only.split(",") if s}, args.display)


if __name__ == "__main__":
    sys.exit(main())
