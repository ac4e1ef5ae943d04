"""The job dock: this session's jobs — queued and running ones with a progress bar, ETA and Cancel,
then the recent results — and the way to each job's console.

Double-click (or Enter, or the row's "Open" menu entry) opens the job's console: the sync console
for a sync or dry run still running (the one open, else a new one that starts where the job is),
the job's details (:class:`~almdesk.ui.jobs_view.JobDetailsDialog`) otherwise. A gate's state reads
passed / failed / could not run; times are local with the zone.

Signals: show_link(int connection id, str task id) — forwarded from a sync console it opened.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QMenu,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services
from almdesk.ui import theme
from almdesk.ui.dialogs import job_outcome, local_time
from almdesk.ui.icons import icon
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_rows import Eta

KEEP_FINISHED = 50
SYNC_KINDS = ("sync", "dry-run")
HANDLE = Qt.ItemDataRole.UserRole  # column 0: the runner's handle
JOB_ID = Qt.ItemDataRole.UserRole + 1  # column 0: the job's row in the store, once known


class JobDock(QDockWidget):
    """Lists queued, running and finished jobs; each running one has a progress bar and Cancel."""

    show_link = Signal(int, str)

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("job_dock")
        self.services = services
        self.runner = runner
        self.tree = QTreeWidget()
        self.tree.setObjectName("job_tree")
        self.tree.setHeaderLabels(["Job", "State", "Progress", "Result", "Started"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 320)
        self.tree.setColumnWidth(1, 130)  # "could not run" with its icon
        self.tree.setColumnWidth(2, 260)
        self.tree.setColumnWidth(3, 320)
        self.tree.setToolTip("Double-click a job to open its console (a sync's live console, or the job's details).")
        self.tree.itemActivated.connect(lambda item, _col: self.open_item(item))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.setWidget(self.tree)
        self.items: dict[int, QTreeWidgetItem] = {}
        self.bars: dict[int, QProgressBar] = {}
        self.etas: dict[int, Eta] = {}
        self.kinds: dict[int, str] = {}
        self.opened: QWidget | None = None  # the last console or details window opened (tests)
        runner.queued.connect(self._queued)
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.finished.connect(self._finished)

    def submit(self, spec: JobSpec) -> int:
        return self.runner.submit(spec)

    @Slot(int, str)
    def _queued(self, handle: int, title: str) -> None:
        item = QTreeWidgetItem([title, "queued", "", "", ""])
        item.setData(0, HANDLE, handle)
        item.setIcon(1, icon("pending"))
        job = self.runner.job(handle)
        self.kinds[handle] = job.spec.kind if job is not None else ""
        self.tree.insertTopLevelItem(0, item)
        self.items[handle] = item
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(2, 0, 2, 0)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(True)
        cancel = QPushButton(icon("cancel"), "Cancel")
        cancel.setObjectName(f"cancel_{handle}")
        cancel.clicked.connect(lambda _c=False, h=handle: self.runner.cancel(h))
        lay.addWidget(bar, 1)
        lay.addWidget(cancel)
        self.tree.setItemWidget(item, 2, box)
        self.bars[handle] = bar
        self.etas[handle] = Eta()

    @Slot(int, str)
    def _started(self, handle: int, _title: str) -> None:
        item = self.items.get(handle)
        if item is not None:
            item.setText(1, "running")
            item.setIcon(1, icon("running"))
            item.setForeground(1, theme.tone("running"))
            item.setText(4, local_time(time.time()))

    @Slot(int, int, int, str)
    def _progress(self, handle: int, done: int, total: int, text: str) -> None:
        bar = self.bars.get(handle)
        if bar is None:
            return
        if total <= 0:
            bar.setRange(0, 0)
            bar.setFormat(text)
        else:
            bar.setRange(0, total)
            bar.setValue(min(done, total))
            eta = self.etas[handle].text(done, total)
            bar.setFormat(f"{done}/{total}" + (f" · {eta}" if eta else ""))
        self.items[handle].setText(3, text)

    @Slot(int, object)
    def _finished(self, handle: int, result: JobResult | None) -> None:
        item = self.items.pop(handle, None)
        self.bars.pop(handle, None)
        self.etas.pop(handle, None)
        kind = self.kinds.pop(handle, "")
        if item is None:
            return
        self.tree.removeItemWidget(item, 2)
        state = "cancelled" if result is None else job_outcome(kind, result.state, result.outcome.payload)
        item.setData(0, JOB_ID, None if result is None else result.job_id)
        item.setText(1, state)
        item.setIcon(1, icon({"succeeded": "ok", "passed": "ok", "could not run": "warning"}.get(state, state)))
        item.setForeground(1, theme.tone(state))
        item.setText(2, "")
        message = "" if result is None else result.outcome.message
        item.setText(3, message)
        item.setToolTip(3, message)
        while self.tree.topLevelItemCount() > KEEP_FINISHED:
            self.tree.takeTopLevelItem(self.tree.topLevelItemCount() - 1)

    # --- a job's console ----------------------------------------------------------------------
    def item_of(self, handle: int) -> QTreeWidgetItem | None:
        """The row of job ``handle`` (running or finished)."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, HANDLE) == handle:
                return item
        return None

    def open_job(self, handle: int) -> QWidget | None:
        item = self.item_of(handle)
        return self.open_item(item) if item is not None else None

    def open_item(self, item: QTreeWidgetItem) -> QWidget | None:
        """Open the console of ``item``'s job: a running sync's live console, else the job's details."""
        handle = int(item.data(0, HANDLE))
        job = self.runner.job(handle)
        view: QWidget | None = None
        if job is not None and job.spec.kind in SYNC_KINDS:
            from almdesk.ui.sync_console import SyncConsole

            existing = self.runner.view(handle) is not None
            console = SyncConsole.follow(self.services, self.runner, handle, self.window())
            if console is not None and not existing:
                console.show_link.connect(self.show_link)
            view = console
        if view is None:
            job_id = item.data(0, JOB_ID) if job is None else job.job_id
            if job_id is None:
                return None  # queued: nothing recorded yet
            from almdesk.ui.jobs_view import JobDetailsDialog

            view = JobDetailsDialog(self.services, int(job_id), self.window())
        view.show()
        view.raise_()
        view.activateWindow()
        self.opened = view
        return view

    def _menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("&Open", lambda: self.open_item(item))
        menu.popup(self.tree.viewport().mapToGlobal(pos))
