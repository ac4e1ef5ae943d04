"""The main window: navigation, pages, toolbar, job dock and status bar.

The window can be built as a *shell* (``MainWindow()``: navigation, menus, toolbar, an "Opening…"
page) and shown before the store, the keyring and the systems are even imported; :meth:`attach`
then builds the pages over the services. ``MainWindow(services, runner)`` does both at once.

A page is built when it is first shown or first used (``window.connections`` …): at start-up only
the page on screen is built.

Keyboard: Ctrl+1…5 show a page, F5 refreshes the page on screen (on Connectors and Connections: tests the
form shown), Ctrl+T / Ctrl+R / Ctrl+Shift+R / Ctrl+G / Ctrl+D test, sync, dry-run, gate, defect; every menu
and toolbar entry has a mnemonic. Icons come from :mod:`almdesk.ui.icons` (one set, tinted for the palette).
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from almdesk import __version__
from almdesk.ui.icons import StatusLabel, icon

if TYPE_CHECKING:
    from almdesk.services import Services
    from almdesk.ui.connection_page import ConnectionPage
    from almdesk.ui.connector_page import ConnectorPage
    from almdesk.ui.job_dock import JobDock
    from almdesk.ui.jobs_view import JobsView
    from almdesk.ui.projects_view import ProjectsView
    from almdesk.ui.runner import JobRunner
    from almdesk.ui.server_page import ServerPage

PAGES = ("Connectors", "Connections", "Projects", "Jobs", "Server")
PAGE_ATTRS = ("connectors", "connections", "projects", "jobs", "server")
PAGE_MNEMONICS = ("&Connectors", "Co&nnections", "&Projects", "&Jobs", "&Server")  # View menu


class MainWindow(QMainWindow):
    """Navigation on the left, the selected page (list + editor) on the right, jobs at the bottom."""

    services: Services
    runner: JobRunner
    dock: JobDock

    def __init__(self, services: Services | None = None, runner: JobRunner | None = None,
                 settings: QSettings | None = None, sandbox_hint: str = "") -> None:
        super().__init__()
        self.settings = settings
        self.attached = False
        # with a tray: closing hides the window there (App sets this); Quit quits
        self.hide_on_close: Callable[[], bool] | None = None
        self.quitting = False
        self._pages: dict[str, Any] = {}  # the pages built so far, by attribute name
        self.setWindowTitle("almdesk — ALM connections console")
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        for attr, name in zip(PAGE_ATTRS, PAGES, strict=True):
            self.nav.addItem(QListWidgetItem(icon(attr), name))
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setSpacing(2)
        self.nav.setMaximumWidth(170)
        self.stack = QStackedWidget()
        self.opening = QLabel("Opening the store…")
        self.opening.setObjectName("opening")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.opening)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.nav)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([150, 1100])
        self.setCentralWidget(split)
        self._build_actions()
        self.resize(1280, 800)
        if settings is not None and isinstance(geometry := settings.value("geometry"), QByteArray):
            self.restoreGeometry(geometry)
        if services is not None and runner is not None:
            self.attach(services, runner, sandbox_hint)

    def attach(self, services: Services, runner: JobRunner, sandbox_hint: str = "") -> None:
        """The job dock and the status bar over ``services``, and the page on screen (once); the other
        pages are built when first shown or used."""
        from almdesk.ui.job_dock import JobDock

        assert not self.attached, "attach() once"
        self.services = services
        self.runner = runner
        self.stack.removeWidget(self.opening)
        self.opening.deleteLater()
        for _name in PAGES:  # a placeholder per page, replaced by the page when it is built
            self.stack.addWidget(QWidget())
        self.attached = True
        self.nav.currentRowChanged.connect(self._show_page)

        self.dock = JobDock(services, runner, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.show_link.connect(self.show_link)
        self.resizeDocks([self.dock], [170], Qt.Orientation.Vertical)
        toggle = self.dock.toggleViewAction()
        toggle.setText("Job &dock")
        self.view_menu.addAction(toggle)
        runner.finished.connect(lambda _h, result: self._job_finished(result))
        runner.started.connect(lambda _h, _t: self._jobs_refresh())
        status = self.statusBar()
        self.keyring_label = StatusLabel("keyring_status")
        self._show_keyring()
        status.addWidget(self.keyring_label, 1)
        status.addPermanentWidget(QLabel(f"Data: {services.paths.root}"))
        if sandbox_hint:
            status.showMessage(sandbox_hint, 15000)
        self.nav.setCurrentRow(0)
        self._show_page(self.nav.currentRow())
        self._restore()
        self._update_actions()

    def _show_keyring(self) -> None:
        """The keyring in the status bar; while start-up is still opening it (``resolved`` False), says so and
        looks again shortly (never waits for it in the UI thread)."""
        secrets = self.services.secrets
        if not getattr(secrets, "resolved", True):
            self.keyring_label.set_status("pending", "Keyring: opening…")
            QTimer.singleShot(50, self._show_keyring)
            return
        try:
            warn, name = secrets.warning, secrets.backend_name
        except Exception as exc:  # the opening failed: the store raises it at every use
            self.keyring_label.set_status("failed", f"The keyring could not be opened: {exc}")
            return
        self.keyring_label.set_status("warning" if warn else None, warn or f"Keyring: {name}")

    # --- pages, built on first use ------------------------------------------------------------
    def _page(self, index: int) -> Any:
        """The page at ``index``, built (and put in the stack in place of its placeholder) on first use."""
        name = PAGE_ATTRS[index]
        page = self._pages.get(name)
        if page is not None:
            return page
        assert self.attached, "the pages exist once the services are attached"
        page = self._build_page(name)
        self._pages[name] = page
        placeholder = self.stack.widget(index)
        assert placeholder is not None, "every page has a placeholder until it is built"
        showing = self.stack.currentIndex() == index
        self.stack.insertWidget(index, page)
        self.stack.removeWidget(placeholder)
        placeholder.deleteLater()
        if showing:
            self.stack.setCurrentIndex(index)
        return page

    def _build_page(self, name: str) -> QWidget:
        services, runner = self.services, self.runner
        if name == "connectors":
            from almdesk.ui.connector_page import ConnectorPage

            connectors = ConnectorPage(services, runner)
            connectors.changed.connect(self._refresh_connection_choices)
            connectors.message.connect(self._say)
            return connectors
        if name == "connections":
            from almdesk.ui.connection_page import ConnectionPage

            connections = ConnectionPage(services, runner)
            connections.message.connect(self._say)
            return connections
        if name == "projects":
            from almdesk.ui.projects_view import ProjectsView

            projects = ProjectsView(services, runner)
            projects.changed.connect(self._refresh_connection_choices)
            return projects
        if name == "server":  # SD Elements remote admin
            from almdesk.ui.server_page import ServerPage

            server = ServerPage(services, runner)
            server.changed.connect(self.reload_pages)
            return server
        from almdesk.ui.jobs_view import JobsView

        return JobsView(services, runner)

    def _say(self, text: str) -> None:
        """A page's confirmation ("Saved connector X.") on the status line."""
        self.statusBar().showMessage(text, 8000)

    def built(self, name: str) -> bool:
        """Whether the page ``name`` (``"connections"`` …) has been built."""
        return name in self._pages

    @property
    def connectors(self) -> ConnectorPage:
        return cast("ConnectorPage", self._page(0))

    @property
    def connections(self) -> ConnectionPage:
        return cast("ConnectionPage", self._page(1))

    @property
    def projects(self) -> ProjectsView:
        return cast("ProjectsView", self._page(2))

    @property
    def jobs(self) -> JobsView:
        return cast("JobsView", self._page(3))

    @property
    def server(self) -> ServerPage:
        return cast("ServerPage", self._page(4))

    def _show_page(self, row: int) -> None:
        if 0 <= row < len(PAGES):
            self._page(row)
            self.stack.setCurrentIndex(row)
        self._update_actions()

    def _refresh_connection_choices(self, *_args: Any) -> None:
        if self.built("connections"):  # a page built later reads its choices then
            self.connections.editor.refresh_choices()

    def _jobs_refresh(self) -> None:
        if self.built("jobs"):  # a page built later reads the jobs then
            self.jobs.refresh()

    def reload_pages(self) -> None:
        """Re-read the connectors, connections and projects into the pages built so far."""
        for name in ("connectors", "connections", "projects", "server"):
            if self.built(name):
                getattr(self._pages[name], "reload", lambda: None)()

    # --- actions ----------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[[], object], shortcut: str | QKeySequence.StandardKey | None = None,
                tip: str = "", icon_name: str = "") -> QAction:
        act = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        # before attach() (the shell) only Quit does something
        act.triggered.connect(lambda _checked=False: slot() if self.attached or slot == self.quit else None)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(tip or (text.replace("&", "").replace("…", "") + (f" ({keys})" if keys else "")))
        act.setObjectName("act_" + text.replace("&", "").replace(" ", "_").replace("…", "").lower())
        return act

    def _build_actions(self) -> None:
        self.act_new = self._action("&New", self.new_item, QKeySequence.StandardKey.New,
                                    "New connector, connection or project (Ctrl+N)", "add")
        self.act_test = self._action("&Test Connection", self.test_selected, "Ctrl+T", icon_name="test")
        self.act_sync = self._action("&Sync Now", lambda: self.sync_selected(False), "Ctrl+R", icon_name="sync")
        self.act_dry = self._action("Dr&y Run", lambda: self.sync_selected(True), "Ctrl+Shift+R", icon_name="dry-run")
        self.act_gate = self._action("&Gate…", self.open_gate, "Ctrl+G", icon_name="gate")
        self.act_defect = self._action("Create &Defect…", self.open_defect, "Ctrl+D", icon_name="defect")
        self.act_refresh = self._action("&Refresh", self.refresh_page, "F5",
                                        "Refresh the page on screen; on Connectors and Connections: test the "
                                        "form shown (F5)", "refresh")
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(18, 18))
        for act in (self.act_new, self.act_test, self.act_sync, self.act_dry, self.act_gate, self.act_defect):
            toolbar.addAction(act)
        self.addToolBar(toolbar)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.act_new)
        file_menu.addAction(self._action("&Export configuration…", self.export_config, icon_name="export"))
        file_menu.addAction(self._action("&Import configuration…", self.import_config, icon_name="import"))
        file_menu.addAction(self._action("Save support &bundle…", self.save_bundle, "Ctrl+Shift+B",
                                         "A zip with the redacted trace, job log, settings (no secrets) and "
                                         "versions of the selected job or connection", "bundle"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.quit, QKeySequence.StandardKey.Quit, icon_name="quit"))
        actions = self.menuBar().addMenu("&Actions")
        for act in (self.act_test, self.act_sync, self.act_dry, self.act_gate, self.act_defect):
            actions.addAction(act)
        actions.addSeparator()
        actions.addAction(self.act_refresh)
        self.view_menu = view = self.menuBar().addMenu("&View")
        for i, (attr, name) in enumerate(zip(PAGE_ATTRS, PAGE_MNEMONICS, strict=True)):
            view.addAction(self._action(name, partial(self.nav.setCurrentRow, i), f"Ctrl+{i + 1}", icon_name=attr))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&About almdesk", self.about, icon_name="info"))
        self._update_actions()

    def _update_actions(self) -> None:
        if not self.attached:  # the shell, before the store is open
            for act in (self.act_new, self.act_test, self.act_sync, self.act_dry, self.act_gate, self.act_defect,
                        self.act_refresh):
                act.setEnabled(False)
            return
        self.act_refresh.setEnabled(True)
        for act in (self.act_new, self.act_gate, self.act_defect):
            act.setEnabled(True)
        page = self.nav.currentRow()
        on_connection = page == 1 and self.connections.current_id() is not None
        self.act_sync.setEnabled(on_connection)
        self.act_dry.setEnabled(on_connection)
        self.act_test.setEnabled(page in (0, 1))

    def _job_finished(self, result: object = None) -> None:
        from almdesk.jobs.record import JobResult

        if self.built("connections"):
            self.connections.job_finished(result.job_id if isinstance(result, JobResult) else None)
        self._jobs_refresh()  # a hidden Jobs page reloads when it is next shown, not at every job end
        self._update_actions()

    def new_item(self) -> None:
        page = self.nav.currentRow()
        if page == 1:
            self.connections.new()
        elif page == 2:
            self.projects.new_project()
        else:
            self.nav.setCurrentRow(0)
            self.connectors.new()

    def refresh_page(self) -> None:
        """F5: on Connectors and Connections test the form shown; elsewhere re-read the page on screen."""
        page = self.nav.currentRow()
        if page in (0, 1):
            self.test_selected()
            return
        if 0 <= page < len(PAGES):
            self._page(page).reload()

    def test_selected(self) -> None:
        if self.nav.currentRow() == 1:
            self.connections.editor.test()  # the form as seen (a new, unsaved connection too)
        else:
            self.nav.setCurrentRow(0)
            self.connectors.editor.test()

    def _connection_or_warn(self) -> int | None:
        cid = self.connections.current_id()
        if cid is None:
            QMessageBox.information(self, "Choose a connection", "Select a connection under Connections first.")
        return cid

    def sync_selected(self, dry_run: bool) -> None:
        cid = self._connection_or_warn()
        if cid is None:
            return
        from almdesk.ui.sync_console import SyncConsole

        spec = self.connections.editor.sync_spec(dry_run)  # the form as seen; the editor shows what is wrong
        if spec is None:
            return
        console = SyncConsole(self.services, self.runner, spec, self)
        console.show_link.connect(self.show_link)
        console.show()

    def show_link(self, connection_id: int, task_id: str) -> None:
        """The Connections page, on the connection's Links tab, filtered to ``task_id``."""
        self.nav.setCurrentRow(1)
        self.connections.show_link(connection_id, task_id)
        self.raise_()
        self.activateWindow()

    def _target_ids(self) -> tuple[int | None, int | None]:
        if self.nav.currentRow() == 1:
            return self.connections.current_id(), None
        info = self.connectors.editor.info
        return None, info.id if info else None

    def open_gate(self) -> None:
        from almdesk.ui.gate_panel import GateDialog

        conn, connector = self._target_ids()
        GateDialog(self.services, self.runner, connection_id=conn, connector_id=connector, parent=self).show()

    def open_defect(self) -> None:
        from almdesk.ui.defect_dialog import DefectDialog

        conn, connector = self._target_ids()
        DefectDialog(self.services, self.runner, connection_id=conn, connector_id=connector, parent=self).show()

    def export_config(self) -> None:
        from almdesk.ui.transfer_dialogs import export_dialog

        export_dialog(self, self.services)

    def import_config(self) -> None:
        from almdesk.ui.transfer_dialogs import import_dialog

        if import_dialog(self, self.services):
            for name in ("connectors", "connections"):
                if self.built(name):
                    self._pages[name].reload()

    def save_bundle(self) -> None:
        """Write a support bundle for the selected job (Jobs page) or connection, in the worker."""
        from almdesk.services.specs import bundle_spec

        job = self.jobs.current if self.nav.currentRow() == 3 else None
        connection = self.connections.current_id() if job is None else None
        if job is None and connection is None:
            QMessageBox.information(self, "Support bundle", "Select a job under Jobs, or a connection under "
                                    "Connections, first.")
            return
        spec = bundle_spec(self.services, job_id=int(job["id"]) if job else None, connection=connection)
        self._bundle_handle = self.runner.submit(spec, queue="bundle")
        self.runner.finished.connect(self._bundle_done)

    def _bundle_done(self, handle: int, result: object) -> None:
        if handle != getattr(self, "_bundle_handle", None):
            return
        self.runner.finished.disconnect(self._bundle_done)
        from almdesk.jobs.record import JobResult

        if isinstance(result, JobResult):
            show = QMessageBox.information if result.state == "succeeded" else QMessageBox.warning
            show(self, "Support bundle", result.outcome.message)

    def about(self) -> None:
        """The About box, with the app icon; non-modal (``self.about_box``)."""
        from almdesk.desktop import APP_ID, app_icon

        box = QMessageBox(QMessageBox.Icon.NoIcon, "About almdesk",
                          f"<b>almdesk {__version__}</b><br>ALM connections console for ALM Octane, Jira, "
                          f"GitHub and Rally.<br><br>Qt {qVersion()} · PySide6 {pyside_version} · "
                          f"Python {sys.version.split()[0]} · {platform.platform()}<br>"
                          f"Keyring: {self.services.secrets.backend_name}<br>Data: {self.services.paths.root}"
                          f"<br>App id: {APP_ID}", QMessageBox.StandardButton.Close, self)
        box.setIconPixmap(app_icon().pixmap(64, 64))
        self.about_box = box
        box.open()

    # --- state ------------------------------------------------------------------------------
    def _restore(self) -> None:
        if self.settings is None:
            return
        state = self.settings.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        page = self.settings.value("page", 0)
        QTimer.singleShot(0, lambda: self.nav.setCurrentRow(int(page or 0)))  # type: ignore[call-overload]

    def quit(self) -> None:
        """Close the window for good (not to the tray) and end the app once it closed."""
        self.quitting = True
        if self.close():
            QApplication.quit()
        else:
            self.quitting = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.attached:
            event.accept()
            return
        if not self.quitting and self.hide_on_close is not None and self.hide_on_close():
            event.ignore()
            self.hide()
            return
        for name in ("connectors", "connections"):
            if self.built(name) and not self._pages[name].confirm_discard():
                event.ignore()
                return
        if self.runner.busy() and QMessageBox.question(
                self, "Jobs running", "Jobs are still running. Cancel them and quit?") != QMessageBox.StandardButton.Yes:
            event.ignore()
            return
        if self.settings is not None:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("state", self.saveState())
            self.settings.setValue("page", self.nav.currentRow())
        self.runner.shutdown()
        event.accept()

