"""The job dock: running jobs with a progress bar and Cancel, then the recent results."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services
from almdesk.ui.runner import JobRunner

KEEP_FINISHED = 50


class JobDock(QDockWidget):
    """Lists queued, running and finished jobs; each running one has a progress bar and Cancel."""

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("job_dock")
        self.services = services
        self.runner = runner
        self.tree = QTreeWidget()
        self.tree.setObjectName("job_tree")
        self.tree.setHeaderLabels(["Job", "State", "Progress", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 320)
        self.tree.setColumnWidth(1, 90)
        self.tree.setColumnWidth(2, 260)
        self.setWidget(self.tree)
        self.items: dict[int, QTreeWidgetItem] = {}
        self.bars: dict[int, QProgressBar] = {}
        self.started_at: dict[int, float] = {}
        runner.queued.connect(self._queued)
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.finished.connect(self._finished)

    def submit(self, spec: JobSpec) -> int:
        return self.runner.submit(spec)

    @Slot(int, str)
    def _queued(self, handle: int, title: str) -> None:
        item = QTreeWidgetItem([title, "queued", "", ""])
        self.tree.insertTopLevelItem(0, item)
        self.items[handle] = item
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(2, 0, 2, 0)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(True)
        cancel = QPushButton("Cancel")
        cancel.setObjectName(f"cancel_{handle}")
        cancel.clicked.connect(lambda _c=False, h=handle: self.runner.cancel(h))
        lay.addWidget(bar, 1)
        lay.addWidget(cancel)
        self.tree.setItemWidget(item, 2, box)
        self.bars[handle] = bar

    @Slot(int, str)
    def _started(self, handle: int, _title: str) -> None:
        if handle in self.items:
            self.items[handle].setText(1, "running")
            self.started_at[handle] = time.monotonic()

    @Slot(int, int, int, str)
    def _progress(self, handle: int, done: int, total: int, text: str) -> None:
        bar = self.bars.get(handle)
        if bar is None:
            return
        bar.setRange(0, max(total, 1))
        bar.setValue(min(done, max(total, 1)))
        eta = ""
        started = self.started_at.get(handle)
        if started and 0 < done < total:
            left = (time.monotonic() - started) / done * (total - done)
            eta = f" · {left:.0f}s left"
        bar.setFormat(f"{done}/{total}{eta}")
        self.items[handle].setText(3, text)

    @Slot(int, object)
    def _finished(self, handle: int, result: JobResult | None) -> None:
        item = self.items.pop(handle, None)
        self.bars.pop(handle, None)
        self.started_at.pop(handle, None)
        if item is None:
            return
        self.tree.removeItemWidget(item, 2)
        state = "cancelled" if result is None else result.state
        item.setText(1, state)
        item.setText(2, "")
        message = "" if result is None else result.outcome.message
        item.setText(3, message)
        item.setToolTip(3, message)
        color = {"succeeded": Qt.GlobalColor.darkGreen, "failed": Qt.GlobalColor.red}.get(state)
        if color is not None:
            item.setForeground(1, color)
        while self.tree.topLevelItemCount() > KEEP_FINISHED:
            self.tree.takeTopLevelItem(self.tree.topLevelItemCount() - 1)
