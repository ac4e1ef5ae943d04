"""Composition root: builds the services, the job runner and the main window. No globals.

``almdesk`` with no command, or ``almdesk-gui``, lands here. With an empty store the window offers
"Try it with the sandbox"; ``--demo`` (or ``ALMDESK_DEMO=1``) accepts that offer at once. The demo
(sandboxes, werkzeug) is imported only when it is used. Once the window is up, :func:`settle_gc`
moves the start-up objects out of the garbage collector's scans, so a long sync does not pause the
UI for full collections, and shortens the interpreter's thread switch interval so a sync worker
hands the GIL back to the UI thread sooner.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from almdesk.errors import UserFacingError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.ui.main_window import MainWindow
from almdesk.ui.runner import JobRunner

if TYPE_CHECKING:
    from almdesk.demo import Demo

log = logging.getLogger(__name__)
SCHEDULE_INTERVAL_MS = 60_000
GC_THRESHOLD = (10_000, 10, 100)  # gen 0 every 10,000 allocations (default 700), gen 1 every 10th
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits (Python's default: 0.005)


def settle_gc() -> None:
    """Once the window is up: collect, then freeze the survivors (PySide, SQLAlchemy, the app's own
    objects) so collections no longer scan them, and collect gen 0 less often. Full collections of a
    start-up heap took 100–160 ms — every thread, the UI's included, waits for them; after this the
    longest collection during a 5,000-task sync is 7–22 ms (a 50,000 gen-0 threshold gave 25–42 ms).

    Also ``sys.setswitchinterval(SWITCH_INTERVAL)``: the UI thread re-enters Python for every cell it
    paints (model ``data()``), and each time waits up to the switch interval for a busy sync worker
    to drop the GIL (measured: largest stall 79–203 ms at 5 ms, 54–91 ms at 1 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    sys.setswitchinterval(SWITCH_INTERVAL)


class App:
    """The running application: services, runner, window and (in demo mode) the sandboxes."""

    def __init__(self, services: Services, *, demo: bool = False) -> None:
        self.services = services
        self.runner = JobRunner(services)
        settings = QSettings(str(services.paths.root / "ui.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(services, self.runner, settings)
        self._demo: Demo | None = None
        self.scheduler = QTimer(self.window)
        self.scheduler.setInterval(SCHEDULE_INTERVAL_MS)
        self.scheduler.timeout.connect(self.run_due)
        self.scheduler.start()
        QTimer.singleShot(2000, self.run_due)  # missed runs run once at start-up
        if (services.paths.root / "demo.json").exists() and self.demo.known():
            QTimer.singleShot(0, self.start_demo)  # re-point the demo connectors at fresh sandboxes
        elif not services.config.connectors():
            QTimer.singleShot(0, self.start_demo if demo else self.offer_demo)

    @property
    def demo(self) -> Demo:
        """The demo's sandboxes, imported and built on first use."""
        if self._demo is None:
            from almdesk.demo import Demo

            self._demo = Demo(self.services)
        return self._demo

    def run_due(self) -> None:
        """Submit the syncs whose frequency says they are due (hourly, daily, weekly, monthly)."""
        from datetime import UTC, datetime

        from almdesk.sync.schedule import due_connections

        running = {job.spec.connection_id for job in self.runner.jobs.values()}
        for cid in due_connections(self.services.store, datetime.now(UTC)):
            if cid in running:
                continue
            try:
                self.runner.submit(self.services.sync_spec(cid, automatic=True))
            except UserFacingError as exc:
                log.warning("scheduled sync of connection %s not started: %s", cid, exc)

    def offer_demo(self) -> None:
        box = QMessageBox(self.window)
        box.setWindowTitle("Welcome to almdesk")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText("<b>No connectors yet.</b><br><br>Try every feature now against built-in simulators of "
                    "ALM Octane, Jira, GitHub and Rally running on this computer, or start with your own "
                    "server.")
        try_btn = box.addButton("Try it with the sandbox", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Configure my own", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(try_btn)
        box.exec()
        if box.clickedButton() is try_btn:
            self.start_demo()
        else:
            self.window.connectors.new()

    def start_demo(self) -> None:
        if self.demo.servers:
            return

        def run(ctx: JobContext) -> JobOutcome:
            summary = self.demo.start(ctx.progress)
            return JobOutcome(True, f"Sandbox ready: {len(summary)} demo connector(s) wired to loopback servers.",
                              data={"demo": summary})

        self.runner.finished.connect(self._demo_ready)
        self._demo_handle = self.runner.submit(JobSpec("demo", "Start the sandbox", run), queue="demo")

    def _demo_ready(self, handle: int, result: object) -> None:
        if handle != getattr(self, "_demo_handle", None):
            return
        self.runner.finished.disconnect(self._demo_ready)
        self.window.connectors.reload()
        self.window.connections.reload()
        getattr(self.window.projects, "reload", lambda: None)()
        self.window.statusBar().showMessage("Demo mode: connectors point at the built-in sandbox.", 20000)

    def close(self) -> None:
        self.runner.shutdown()
        if self._demo is not None:
            self._demo.stop()
        self.services.close()


def main(argv: Sequence[str] | None = None) -> int:
    __import__("almdesk.memtune").memtune.tune_malloc()  # first: fixed glibc mmap threshold (almdesk/memtune.py)
    argv = list(argv if argv is not None else sys.argv)
    parser = argparse.ArgumentParser(prog="almdesk-gui")
    parser.add_argument("--data-dir")
    parser.add_argument("--demo", action="store_true", help="start the sandbox demo when nothing is configured")
    args, qt_args = parser.parse_known_args(argv[1:])
    qapp = QApplication([argv[0], *qt_args])
    qapp.setApplicationName("almdesk")
    qapp.setOrganizationName("almdesk")
    qapp.setApplicationDisplayName("almdesk")
    try:
        services = Services.open(args.data_dir)
    except UserFacingError as exc:
        QMessageBox.critical(None, "almdesk cannot start", f"{exc.message}\n\n{exc.hint}")
        return exc.exit_code
    app = App(services, demo=args.demo or os.environ.get("ALMDESK_DEMO") == "1")
    app.window.show()
    settle_gc()
    code = qapp.exec()
    app.close()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
