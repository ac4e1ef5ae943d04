"""Composition root: builds the services, the job runner and the main window. No globals.

``almdesk`` with no command, or ``almdesk-gui``, lands here. With an empty store the window offers
"Try it with the sandbox"; ``--demo`` (or ``ALMDESK_DEMO=1``) accepts that offer at once.

Start-up (:class:`Startup`) shows the main window's shell first — only PySide6 is imported by then —
and, once it has painted, a worker thread imports the heavy modules (SQLAlchemy, requests, the
models, the four systems, the pages' modules) and opens the store while the shell keeps responding;
back in the UI thread the page on screen is built; once it has painted, the worker goes on to open the
keyring (its ``secretstorage`` import and D-Bus probe: :mod:`almdesk.deferred_secrets`; a use of a secret
before that opens it there and then) and to import the other pages' modules. On the very first start (no
store yet) the welcome box opens right after the shell's first paint, while the store is created. The demo (sandboxes, werkzeug)
is imported only when it is used.

``--theme light|dark`` (or ``ALMDESK_THEME``) forces a palette (Fusion style); the default follows the
desktop. ``ALMDESK_START_MARK=1`` writes monotonic marks of the first paint and of the first usable
window to stderr (``=quit`` quits after it): ``bench/first_start.py`` reads them (:mod:`almdesk.ui.start_mark`). Once the window is up, :func:`settle_gc`
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
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon, QWidget

from almdesk.errors import UserFacingError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.paths import Paths
from almdesk.ui import theme
from almdesk.ui.main_window import MainWindow

if TYPE_CHECKING:
    from almdesk.demo import Demo
    from almdesk.services import Services
    from almdesk.ui.tray import Notifier, Tray

log = logging.getLogger(__name__)
SCHEDULE_INTERVAL_MS = 60_000
GC_THRESHOLD = (10_000, 10, 100)  # gen 0 every 10,000 allocations (default 700), gen 1 every 10th
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits (Python's default: 0.005)


def settle_gc() -> None:
    """Once the window is up: collect, then freeze the survivors (PySide, SQLAlchemy, the app's own
    objects) so collections no longer scan them, and collect gen 0 less often (full collections stop
    every thread, the UI's included).

    Also ``sys.setswitchinterval(SWITCH_INTERVAL)``: the UI thread re-enters Python for every cell it
    paints and each time waits up to the switch interval for a busy sync worker to drop the GIL.
    The figures behind both are in docs/performance.md ("Runtime tuning")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    sys.setswitchinterval(SWITCH_INTERVAL)


def ui_settings(paths: Paths) -> QSettings:
    return QSettings(str(paths.root / "ui.ini"), QSettings.Format.IniFormat)


SETTLE_DELAY_MS = 300  # settle_gc() this long after the window is filled; the worker goes on then
RELEASE_TIMEOUT = 10.0  # seconds the worker waits for that at most
LATER_MODULES = ("almdesk.ui.connection_page", "almdesk.ui.projects_view", "almdesk.ui.jobs_view")


def lighten_pyside_import_hook() -> bool:
    """Make PySide6's per-import scan cheaper; same answers. Returns whether it was changed.

    Once PySide6 is imported, every module imported after it is scanned once for the text "PySide6"
    (``shibokensupport.feature._mod_uses_pyside``, for its opt-in ``__feature__`` switches) through
    ``inspect.getsource``, which also fills ``linecache`` with the whole source (its cost at start-up
    is in docs/performance.md). This reads a plain ``.py`` file's bytes instead (the text is
    ASCII, so the answer is the same) and leaves every other module to PySide6's own scan. Private
    PySide6 API: if it is not there as expected, nothing is changed."""
    feature = sys.modules.get("shibokensupport.feature")
    scan = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(scan) or getattr(scan, "_almdesk", False):
        return False

    def uses_pyside(*args: object, **kwargs: object) -> Any:
        if len(args) != 1 or kwargs:  # not the call this was written for: PySide6's own answer
            return scan(*args, **kwargs)
        origin = getattr(getattr(args[0], "__spec__", None), "origin", None)
        if isinstance(origin, str) and origin.endswith(".py"):
            try:
                with open(origin, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return scan(*args)

    uses_pyside._almdesk = True  # type: ignore[attr-defined]
    uses_pyside.pyside_scan = scan  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]  # private PySide6 hook, not in a ModuleType
    return True


def prepare(data_dir: str | None) -> Services:
    """The slow, thread-safe part of start-up, run in a worker thread: import the services' modules
    (SQLAlchemy, requests, the models), the four systems and the modules of the page shown first, and open
    the store — :meth:`Services.open` — with a :class:`~almdesk.deferred_secrets.DeferredSecrets` for the
    keyring (unless ``ALMDESK_SECRETS`` names a mode). Creates no Qt object. The same thread then opens the
    keyring (:func:`open_keyring`) and imports the other pages' modules, :data:`LATER_MODULES`, once the
    window is filling.

    What is made here is then used from the UI thread, as it is from the job runner's threads: the
    store's engine pools its SQLite connections for any thread (SQLAlchemy's ``QueuePool``, without
    ``check_same_thread``), and keyring's back-ends hold no per-thread state (Secret Service opens a
    D-Bus connection for every call)."""
    import almdesk.ui.connector_page
    import almdesk.ui.job_dock
    import almdesk.ui.runner  # noqa: F401  (the imports are the point: done here, off the UI thread)
    from almdesk.deferred_secrets import DeferredSecrets
    from almdesk.secrets import SECRETS_MODE, SecretStore, open_secret_store
    from almdesk.services import Services
    from almdesk.services.wiring import connector_names

    if os.environ.get(SECRETS_MODE):  # an explicit secrets mode (or a wrong one) is taken, or refused, now
        return Services.open(data_dir)
    deferred = DeferredSecrets()
    services = Services.open(data_dir, secrets=cast(SecretStore, deferred))
    deferred.bind(lambda: open_secret_store(connector_names(services.store)))
    return services


def open_keyring(services: Services) -> None:
    """The keyring of :func:`prepare`'s services, opened (the start-up worker, once the window is usable)."""
    from almdesk.deferred_secrets import DeferredSecrets

    secrets = services.secrets
    if isinstance(secrets, DeferredSecrets):
        secrets.open()


class Startup(QObject):
    """Shows the main window's shell at once; after its first paint runs :func:`prepare` in a worker
    thread (the shell keeps responding), then builds :class:`App` over the same window in the UI
    thread. ``app`` is set when ready; ``exit_code`` if it could not start."""

    _prepared = Signal(object)  # emitted by the worker thread, delivered (queued) in the UI thread

    def __init__(self, data_dir: str | None = None, *, demo: bool = False, welcome_early: bool = False) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.demo = demo
        # the very first start (no store yet): with welcome_early the welcome box is shown right after the
        # shell's first paint, while the worker creates the store; its answer is applied once App is built
        self.fresh = not Paths.resolve(data_dir).database.exists()
        self.welcome_early = welcome_early and self.fresh and not demo
        self.welcome: bool | None = None  # the early welcome box's answer, until App is there to apply it
        self.app: App | None = None
        self.exit_code: int | None = None
        self.window = MainWindow(settings=ui_settings(Paths.resolve(data_dir)))
        self.window.installEventFilter(self)
        self._painted = False
        self._worker: threading.Thread | None = None
        self.settled = False  # settle_gc() done
        self.start_mark: QObject | None = None  # ALMDESK_START_MARK (bench/first_start.py)
        self._prepared.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self._usable = threading.Event()  # set when the filled window has painted: the worker goes on

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.start)
            if self.welcome_early:
                QTimer.singleShot(0, self._welcome)
        return False

    def start(self) -> None:
        """Run :func:`prepare` in a worker thread; :meth:`_finish` follows in the UI thread."""
        if self._worker is not None or self.app is not None or self.exit_code is not None:
            return
        # while the worker imports, hand the GIL back to the UI thread sooner (settle_gc keeps this)
        sys.setswitchinterval(SWITCH_INTERVAL)
        lighten_pyside_import_hook()
        self._worker = threading.Thread(target=self._prepare, name="almdesk-startup", daemon=True)
        self._worker.start()

    def _prepare(self) -> None:
        try:
            result: Any = prepare(self.data_dir)
        except BaseException as exc:
            result = exc
        self._prepared.emit(result)
        if not isinstance(result, BaseException):  # the keyring, then the pages not shown yet: here, not later
            import importlib

            # once the filled window has painted (it would compete for the GIL with building it)
            self._usable.wait(RELEASE_TIMEOUT)
            open_keyring(cast("Services", result))
            for name in LATER_MODULES:
                importlib.import_module(name)

    def _finish(self, result: object) -> None:
        if isinstance(result, UserFacingError):
            self._cannot_start(result)
        elif isinstance(result, BaseException):  # a bug: say so rather than leave "Opening the store…" up
            log.error("start-up failed", exc_info=result)
            self._cannot_start(UserFacingError(f"Start-up failed: {type(result).__name__}: {result}",
                                               "This is a bug in almdesk; the log has the details."))
        elif self.app is None and self.exit_code is None:
            self.app = App(cast("Services", result), demo=self.demo, window=self.window,
                           offer=not self.welcome_early)
            if self.welcome is not None:  # answered before the store was open
                self.app.apply_welcome(self.welcome)
            QTimer.singleShot(SETTLE_DELAY_MS, self._settle)  # after the filled window's first paint

    def _welcome(self) -> None:
        """The early welcome box (its own event loop; the worker's hand-over is handled inside it)."""
        tried = ask_welcome(self.window)
        if self.exit_code is not None:
            return
        if self.app is not None:
            self.app.apply_welcome(tried)
        else:
            self.welcome = tried

    def _cannot_start(self, exc: UserFacingError) -> None:
        self._usable.set()
        QMessageBox.critical(self.window, "almdesk cannot start", f"{exc.message}\n\n{exc.hint}")
        self.exit_code = exc.exit_code
        QApplication.quit()

    def _settle(self) -> None:
        if not self.settled:
            settle_gc()
            self.settled = True
        self._usable.set()


def ask_welcome(parent: QWidget) -> bool:
    """The welcome box of an empty store (object name ``welcome``): True for "Try it with the sandbox"."""
    box = QMessageBox(parent)
    box.setObjectName("welcome")
    box.setWindowTitle("Welcome to almdesk")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText("<b>No connectors yet.</b><br><br>Try every feature now against built-in simulators of "
                "ALM Octane, Jira, GitHub and Rally running on this computer, or start with your own "
                "server.")
    try_btn = box.addButton("&Try it with the sandbox", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("&Configure my own", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(try_btn)
    box.exec()
    return box.clickedButton() is try_btn


class App:
    """The running application: services, runner, window and (in demo mode) the sandboxes."""

    def __init__(self, services: Services, *, demo: bool = False, window: MainWindow | None = None,
                 tray: bool | None = None, offer: bool = True) -> None:
        from almdesk.ui.runner import JobRunner

        self.services = services
        self.runner = JobRunner(services)
        if window is None:
            self.window = MainWindow(services, self.runner, ui_settings(services.paths))
        else:  # the shell already shown by Startup
            self.window = window
            window.attach(services, self.runner)
        self._demo: Demo | None = None
        self.scheduler = QTimer(self.window)
        self.scheduler.setInterval(SCHEDULE_INTERVAL_MS)
        self.scheduler.timeout.connect(self.run_due)
        self.scheduler.start()
        QTimer.singleShot(2000, self.run_due)  # missed runs run once at start-up
        self.tray, self.notifier = self._desktop(tray)
        if (services.paths.root / "demo.json").exists() and self.demo.known():
            QTimer.singleShot(0, self.start_demo)  # re-point the demo connectors at fresh sandboxes
        elif not services.config.connectors() and (demo or offer):  # offer=False: Startup asked already
            QTimer.singleShot(0, self.start_demo if demo else self.offer_demo)

    def _desktop(self, tray: bool | None) -> tuple[Tray | None, Notifier]:
        """The tray (where the desktop has one, or ``tray`` forces it) and the notifications. With a tray,
        closing the window hides it there: the scheduler (a timer of this app) keeps running due syncs."""
        from PySide6.QtWidgets import QSystemTrayIcon

        from almdesk.desktop import app_icon, raise_window
        from almdesk.ui.tray import Notifier, Tray

        self.window.setWindowIcon(app_icon())

        available = QSystemTrayIcon.isSystemTrayAvailable() if tray is None else tray
        icon = Tray(self.services, self.runner, available=True, parent=self.window) if available else None
        notifier = Notifier(self.runner, self.window, ui_settings(self.services.paths), icon, parent=self.window)
        self.window.view_menu.addAction(notifier.mute_action)
        if icon is not None:
            icon.show_requested.connect(lambda: raise_window(self.window))
            icon.quit_requested.connect(self.window.quit)
            self.window.hide_on_close = self._hide_to_tray
            QApplication.setQuitOnLastWindowClosed(False)
        return icon, notifier

    def _hide_to_tray(self) -> bool:
        """The window goes to the tray (the first time the tray says so)."""
        if self.tray is None:
            return False
        if not getattr(self, "_told_tray", False):
            self._told_tray = True
            self.tray.icon.showMessage("almdesk keeps running", "Due syncs still run. Quit from the tray menu.",
                                       QSystemTrayIcon.MessageIcon.Information, 5000)
        return True

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
        self.apply_welcome(ask_welcome(self.window))

    def apply_welcome(self, tried: bool) -> None:
        """The welcome box's answer: the sandbox demo, or a new connector of one's own."""
        if tried:
            self.start_demo()
        else:
            self.window.connectors.new()

    def start_demo(self) -> None:
        from almdesk.jobs.record import JobSpec

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
        self.window.reload_pages()
        self.window.statusBar().showMessage("Demo mode: connectors point at the built-in sandbox.", 20000)

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        self.runner.shutdown()
        if self._demo is not None:
            self._demo.stop()
        self.services.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The GUI. Without a display it says so in one line (exit 2); a second launch on the same data
    directory raises the first one's window and exits 0. ``--smoke`` opens the window, builds every page
    and quits (0) — the frozen build's smoke test."""
    from almdesk import desktop

    argv = list(argv if argv is not None else sys.argv)
    parser = argparse.ArgumentParser(prog="almdesk-gui")
    parser.add_argument("--data-dir")
    parser.add_argument("--demo", action="store_true", help="start the sandbox demo when nothing is configured")
    parser.add_argument("--smoke", action="store_true", help="open the window, build every page, then quit")
    parser.add_argument("--theme", choices=theme.THEMES, default=os.environ.get(theme.THEME_ENV) or "system",
                        help="colours: system (default; the desktop's light or dark palette), light or dark "
                             "(the Fusion style); also ALMDESK_THEME")
    args, qt_args = parser.parse_known_args(argv[1:])
    problem = desktop.display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    qapp = QApplication([argv[0], *qt_args])
    qapp.setApplicationName("almdesk")
    qapp.setOrganizationName("almdesk")
    qapp.setApplicationDisplayName("almdesk")
    qapp.setDesktopFileName(desktop.APP_ID)  # Wayland matches the window to the .desktop file (and its icon)
    qapp.setWindowIcon(desktop.app_icon())
    theme.apply_theme(qapp, args.theme)
    instance = desktop.SingleInstance(desktop.instance_key(Paths.resolve(args.data_dir).root))
    if not args.smoke and not instance.claim():
        print("almdesk is already running: " + ("its window was raised." if instance.first_answered else
                                                 "it did not answer; look for its window."))
        return 0
    startup = Startup(args.data_dir, demo=args.demo or os.environ.get("ALMDESK_DEMO") == "1",
                      welcome_early=not args.smoke)
    instance.activated.connect(lambda: desktop.raise_window(startup.window))
    crash = desktop.CrashReporter(lambda: startup.window, lambda: _crash_bundle(startup))
    crash.install()
    _start_marks(startup)
    if args.smoke:
        _smoke(startup)
    startup.window.show()  # the shell paints first; the store is opened right after, in a worker
    code = qapp.exec()
    crash.uninstall()
    instance.close()
    if startup.exit_code is not None:
        return startup.exit_code
    if startup.app is not None:
        startup.app.close()
    return int(code)


def _start_marks(startup: Startup) -> None:
    """``ALMDESK_START_MARK``: the marks of :mod:`almdesk.ui.start_mark` (``bench/first_start.py``)."""
    from almdesk.ui import start_mark

    mode = start_mark.wanted()
    if mode:
        startup.start_mark = start_mark.StartMark(
            startup.window, lambda: startup.window if startup.app is not None else None,
            quit_after=mode == "quit", expect_welcome=startup.fresh and not startup.demo)


def _crash_bundle(startup: Startup) -> Path | None:
    """The support bundle the crash dialog offers: the most recent jobs of all connections."""
    from almdesk.bundle import support_bundle

    if startup.app is None:
        return None
    services = startup.app.services
    return support_bundle(services, out_dir=services.paths.bundles)


def _smoke(startup: Startup) -> None:
    """Once the app is up, build every page (imports every UI module), print one line and quit."""
    from almdesk.ui.main_window import PAGES

    def check() -> None:
        if startup.exit_code is not None:
            return
        if startup.app is None:
            QTimer.singleShot(50, check)
            return
        for i in range(len(PAGES)):
            startup.window.nav.setCurrentRow(i)
        print(f"smoke: window up ({startup.window.windowTitle()}), {len(PAGES)} pages built, "
              f"keyring: {startup.app.services.secrets.backend_name}", flush=True)
        startup.window.quit()

    QTimer.singleShot(0, check)


if __name__ == "__main__":
    sys.exit(main())
