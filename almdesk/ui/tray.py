"""The optional tray icon and the desktop notifications of finished syncs and gates.

:class:`Tray` shows a ``QSystemTrayIcon`` only where the desktop has a tray (GNOME on Wayland often has
none: the app is fully usable without it). Its tooltip and menu list the running jobs and the next due
syncs; with a tray, closing the window hides it there and due syncs keep running.

:class:`Notifier` tells when a sync or a gate ends: through the tray's notifications when there is a
tray (on Linux Qt sends them to the desktop's notification service; a failure is sent with no expiry,
so it stays until dismissed), otherwise in the window (status bar for a success, a dialog that stays
open for a failure). Successes can be muted (View → Notify when syncs and gates succeed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox, QSystemTrayIcon

from almdesk.desktop import app_icon
from almdesk.ui.icons import icon

if TYPE_CHECKING:
    from almdesk.services import Services
    from almdesk.ui.runner import JobRunner

REFRESH_MS = 60_000  # the next-due lines are re-read this often (and whenever a job starts or ends)
SUCCESS_MS = 8_000  # how long a success notification shows
STICKY_MS = 0  # a failure's notification: no expiry (stays until dismissed)
NOTIFY_KINDS = ("sync", "gate")
MUTE_KEY = "notifications/mute_successes"


class Tray(QObject):
    """The tray icon, when the desktop has a tray (``available``; tests may force it).

    Signals: show_requested() — "Show almdesk" or a click on the icon; quit_requested() — "Quit".
    """

    show_requested = Signal()
    quit_requested = Signal()

    def __init__(self, services: Services, runner: JobRunner, *, available: bool | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.act_show = QAction(app_icon(), "&Show almdesk", self)
        self.act_show.triggered.connect(self.show_requested)
        self.act_quit = QAction(icon("quit"), "&Quit almdesk", self)
        self.act_quit.triggered.connect(self.quit_requested)
        self.status_actions: list[QAction] = []
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        runner.started.connect(self.refresh)
        runner.finished.connect(self.refresh)
        runner.queued.connect(self.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.refresh()
        if self.available:
            self.timer.start()
            self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()

    def lines(self, now: datetime | None = None) -> list[str]:
        """What the tray says: the running and queued jobs, then the next due syncs."""
        from almdesk.sync.schedule import upcoming

        out = []
        for job in self.runner.jobs.values():
            out.append(f"{'Running' if job.thread is not None else 'Queued'}: {job.spec.title}")
        if not out:
            out.append("No job running")
        due = upcoming(self.services.store, now)
        for when, alias in due:
            out.append(f"Next sync: {alias} at {when.astimezone():%a %H:%M}")
        if not due:
            out.append("No scheduled sync")
        return out

    def refresh(self, *_args: object) -> None:
        lines = self.lines()
        self.icon.setToolTip("almdesk\n" + "\n".join(lines))
        self.menu.clear()
        self.menu.addAction(self.act_show)
        self.menu.addSeparator()
        self.status_actions = []
        for line in lines:
            act = self.menu.addAction(icon(_line_icon(line)), line)
            act.setEnabled(False)
            self.status_actions.append(act)
        self.menu.addSeparator()
        self.menu.addAction(self.act_quit)

    def hide(self) -> None:
        self.timer.stop()
        self.icon.hide()


def _line_icon(line: str) -> str:
    """The status icon of one of :meth:`Tray.lines`."""
    return "running" if line.startswith("Running") else "pending" if line.startswith(("Queued", "Next")) else "info"


@dataclass(frozen=True)
class Notice:
    """One notification: ``sticky`` ones (failures) stay until dismissed."""

    title: str
    body: str
    failed: bool
    job_id: int | None = None

    @property
    def sticky(self) -> bool:
        return self.failed


class Notifier(QObject):
    """Notifies the end of every sync and gate the runner runs (the window open, hidden or minimised).

    Signals: notified(Notice) — after a notification was shown (muted successes emit nothing).
    """

    notified = Signal(object)

    def __init__(self, runner: JobRunner, window: QMainWindow, settings: QSettings | None = None,
                 tray: Tray | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.window = window
        self.settings = settings
        self.tray = tray
        self._jobs: dict[int, tuple[str, str]] = {}  # handle → (kind, title), kept from the start
        self.failure_box: QMessageBox | None = None  # without a tray: the open box of failures
        self.mute_action = QAction("N&otify when syncs and gates succeed", self)
        self.mute_action.setCheckable(True)
        self.mute_action.setChecked(not self.muted)
        self.mute_action.toggled.connect(lambda on: self.set_muted(not on))
        runner.started.connect(self._started)
        runner.finished.connect(self._finished)

    @property
    def muted(self) -> bool:
        """Whether successes are muted (failures are always told)."""
        if self.settings is None:
            return False
        return str(self.settings.value(MUTE_KEY, "false")).lower() in ("true", "1")

    def set_muted(self, muted: bool) -> None:
        if self.settings is not None:
            self.settings.setValue(MUTE_KEY, muted)
        self.mute_action.setChecked(not muted)

    def _started(self, handle: int, _title: str) -> None:
        job = self.runner.jobs.get(handle)
        if job is not None and job.spec.kind in NOTIFY_KINDS:
            self._jobs[handle] = (job.spec.kind, job.spec.title)

    def _finished(self, handle: int, result: object) -> None:
        from almdesk.jobs.record import JobResult

        kind_title = self._jobs.pop(handle, None)
        if kind_title is None or not isinstance(result, JobResult):
            return
        kind, title = kind_title
        failed = result.state == "failed"
        verb = {"sync": "Sync", "gate": "Gate"}[kind]
        state = "cancelled" if result.state == "cancelled" else "failed" if failed else \
            "passed" if kind == "gate" else "finished"
        notice = Notice(f"{verb} {state}: {title}", result.outcome.message, failed, result.job_id)
        if not failed and self.muted:
            return
        self.show(notice)

    def show(self, notice: Notice) -> None:
        if self.tray is not None and self.tray.available:
            icon = QSystemTrayIcon.MessageIcon.Critical if notice.failed else QSystemTrayIcon.MessageIcon.Information
            self.tray.icon.showMessage(notice.title, notice.body, icon, STICKY_MS if notice.sticky else SUCCESS_MS)
        elif notice.failed:
            self._failure_in_window(notice)
        else:
            self.window.statusBar().showMessage(f"{notice.title} — {notice.body}", SUCCESS_MS)
        if notice.failed:
            QApplication.alert(self.window)  # the taskbar entry asks for attention
        self.notified.emit(notice)

    def _failure_in_window(self, notice: Notice) -> None:
        """No tray: one non-modal box collects the failures until the user closes it (the window and its
        dialogs stay usable: it was window-modal and blocked the gate dialog it reported on)."""
        line = f"{notice.title}\n{notice.body}"
        box = self.failure_box
        if box is not None and box.isVisible():
            box.setText(box.text() + "\n\n" + line)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "almdesk: a job failed", line, QMessageBox.StandardButton.Close,
                          self.window)
        box.setObjectName("failure_notice")
        box.setWindowModality(Qt.WindowModality.NonModal)  # it tells; it must not block the window or a dialog
        self.failure_box = box
        box.show()
