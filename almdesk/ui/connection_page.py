"""Connections: the list (with each connection's last job) and the editor
(:mod:`almdesk.ui.connection_editor`).

The editor's connector and project choices are read once when needed (not at every reload), and a
job's end refreshes only its own connection's row (:meth:`ConnectionPage.job_finished`), so a list
of 1,000 connections is not rebuilt in the UI thread after every sync. The store is read through
``services.queries`` only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.services.queries import job_summary, last_jobs
from almdesk.ui.connection_editor import SECTIONS, ConnectionEditor
from almdesk.ui.forms import confirm_discard
from almdesk.ui.runner import JobRunner

__all__ = ["SECTIONS", "ConnectionEditor", "ConnectionPage"]


class ConnectionPage(QWidget):
    """Connections list (alias, system, project, last job) + editor.

    Signals: changed(), selected(int), message(str) — a confirmation for the status line.
    """

    changed = Signal()
    selected = Signal(int)
    message = Signal(str)

    def __init__(self, services: Services, runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QTreeWidget()
        self.list.setObjectName("connection_list")
        self.list.setHeaderLabels(["Alias", "System", "Project", "Last job"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 150)
        self.editor = ConnectionEditor(services, runner)
        self.editor.message.connect(self.message)
        self.editor.saved.connect(self._saved)
        self.editor.deleted.connect(self.reload)
        self.editor.deleted.connect(self.changed)
        self.list.currentItemChanged.connect(self._selected)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self.editor)
        split.setSizes([420, 700])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._guard = False
        self.reload()

    def current_id(self) -> int | None:
        return self.editor.info.id if self.editor.info else None

    def _saved(self, cid: int) -> None:
        self.reload(cid)
        self.changed.emit()

    def reload(self, select_id: int | None = None) -> None:
        self._guard = True
        self.list.clear()
        connections = self.services.config.connections()
        jobs = last_jobs(self.services.store, [c.last_job_id for c in connections if c.last_job_id])
        registry = self.services.registry
        for info in connections:
            job = jobs.get(info.last_job_id or 0)
            last = "never run" if job is None else f"{'✔' if job[0] else '✖'} {job[1]}"
            system = registry.get(info.system).label if info.system in registry else info.system
            item = QTreeWidgetItem([info.alias, system, info.project, last])
            item.setToolTip(3, last)
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            self.list.addTopLevelItem(item)
            if info.id == select_id:
                self.list.setCurrentItem(item)
        self._guard = False
        self.editor.choices_stale = True
        if select_id is None and (first := self.list.topLevelItem(0)) is not None and self.editor.info is None:
            self.list.setCurrentItem(first)  # loads the editor, which refreshes them
        if self.editor.choices_stale:
            self.editor.refresh_choices()

    def job_finished(self, job_id: int | None) -> None:
        """Refresh the row (and the editor's "Last job") of the connection whose job ended."""
        job = job_summary(self.services.store, job_id)
        if job is None or job.connection_id is None:
            return
        try:
            info = self.services.config.connection(job.connection_id)
        except ConfigError:  # deleted meanwhile
            return
        last = job_summary(self.services.store, info.last_job_id)
        text = "never run" if last is None else last.line
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == info.id:
                item.setText(3, text)
                item.setToolTip(3, text)
                break
        if self.editor.info is not None and self.editor.info.id == info.id:
            self.editor.info = info
            self.editor.last_job.setText(last.detail if last else "never run")

    def show_link(self, connection_id: int, task_id: str) -> bool:
        """Select the connection and show its link of ``task_id`` (False when the connection is gone)."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == connection_id:
                if self.current_id() != connection_id:
                    self.list.setCurrentItem(item)
                if self.current_id() != connection_id:  # the user kept unsaved changes of another one
                    return False
                self.editor.show_links(task_id)
                return True
        return False

    def new(self) -> None:
        if not self.confirm_discard():
            return
        self.list.clearSelection()
        self.editor.load(None)
        self.editor.alias.setFocus()

    def confirm_discard(self) -> bool:
        """Save / Discard / Cancel for unsaved edits; Discard brings the stored settings back."""
        ok = confirm_discard(self, "connection", self.editor.dirty, self.editor.save)
        if ok and self.editor.dirty:  # discarded
            self.editor.revert()
        return ok

    def _selected(self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None) -> None:
        if self._guard or current is None:
            return
        if not self.confirm_discard():
            self._guard = True
            if previous is None:
                self.list.setCurrentIndex(QModelIndex())  # back to no current item
            else:
                self.list.setCurrentItem(previous)
            self._guard = False
            return
        cid = int(current.data(0, Qt.ItemDataRole.UserRole))
        self.editor.load(self.services.config.connection(cid))
        self.selected.emit(cid)
