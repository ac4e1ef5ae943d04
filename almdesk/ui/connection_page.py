"""Connections: the list (with each connection's last job) and the editor grouped by section.

The editor's connector and project choices are read once when needed (not at every reload), and a
job's end refreshes only its own connection's row (:meth:`ConnectionPage.job_finished`), so a list
of 1,000 connections is not rebuilt in the UI thread after every sync.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from almdesk.base.fields import FieldErrors
from almdesk.config import FREQUENCIES, ConnectionInfo, connection_fields
from almdesk.errors import ConfigError
from almdesk.jobs.history import get_job
from almdesk.models import Job
from almdesk.services import Services
from almdesk.sync.identity import identity_problem
from almdesk.ui.connector_page import scrolled
from almdesk.ui.forms import ERROR_STYLE, FieldForm, confirm_discard
from almdesk.ui.links_view import LinksView

SECTIONS = ("Target", "Scope", "Status")


class ConnectionEditor(QWidget):
    """Edits one connection, with its links in a tab. Signals: saved(int id), deleted(), dirty_changed(bool).

    The General tab says when another connection of the store syncs into the same ALM target with the
    same context (:func:`almdesk.sync.identity.identity_problem`), before the first sync."""

    saved = Signal(int)
    deleted = Signal()
    dirty_changed = Signal(bool)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.info: ConnectionInfo | None = None
        self.dirty = False
        self.system_name = ""
        self.alias = QLineEdit()
        self.alias.setObjectName("connection_alias")
        self.connector = QComboBox()
        self.connector.setObjectName("connection_connector")
        self.project = QComboBox()
        self.project.setObjectName("connection_project")
        self.frequency = QComboBox()
        self.frequency.addItems(list(FREQUENCIES))
        self.debug = QCheckBox("Record a redacted HTTP trace of each job (debug mode)")
        self.errors: dict[str, QLabel] = {}
        general = QWidget()
        form = QFormLayout(general)
        for key, label, widget in (("alias", "Alias *", self.alias), ("connector", "Connector *", self.connector),
                                   ("project", "Project *", self.project), ("frequency", "Frequency", self.frequency),
                                   ("debug", "Debug", self.debug)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(2)
            bl.addWidget(widget)
            err = QLabel()
            err.setStyleSheet(ERROR_STYLE)
            err.setWordWrap(True)
            err.hide()
            bl.addWidget(err)
            self.errors[key] = err
            form.addRow(label, box)
        self.last_job = QLabel()
        self.last_job.setWordWrap(True)
        self.last_job.setObjectName("last_job")
        form.addRow("Last job", self.last_job)
        self.identity = QLabel()  # a shared ALM target with the same context, shown before any sync
        self.identity.setObjectName("connection_identity")
        self.identity.setWordWrap(True)
        self.identity.setStyleSheet(ERROR_STYLE)
        self.identity.hide()
        form.addRow(self.identity)
        self.links = LinksView(services)
        self.links.setObjectName("connection_links")
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.forms: dict[str, FieldForm] = {}
        self.alias.textEdited.connect(lambda _t: self._set_dirty(True))
        for combo in (self.connector, self.project, self.frequency):
            combo.currentIndexChanged.connect(lambda _i: self._set_dirty(True))
        self.connector.currentIndexChanged.connect(lambda _i: self._build_forms())
        self.debug.toggled.connect(lambda _v: self._set_dirty(True))

        self.save_btn = QPushButton("&Save")
        self.save_btn.setObjectName("save")
        self.save_btn.clicked.connect(self.save)
        self.del_btn = QPushButton("&Delete")
        self.del_btn.clicked.connect(self.delete)
        self.banner = QLabel()
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.del_btn)
        buttons.addWidget(self.save_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.banner)
        lay.addLayout(buttons)
        self.choices_stale = True  # filled by the first load() or refresh_choices()

    def refresh_choices(self) -> None:
        self.choices_stale = False
        targets = set(self.services.registry.alm_targets())  # a task source (SD Elements) is no target
        connectors = [(c.name, c.id) for c in self.services.config.connectors() if c.system in targets]
        for combo, items in ((self.connector, connectors),
                             (self.project, [(p["name"], p["name"]) for p in self.services.config.projects()])):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for text, data in items:
                combo.addItem(text, data)
            idx = combo.findData(current)
            combo.setCurrentIndex(max(idx, 0))
            combo.blockSignals(False)
        self._build_forms()

    def _build_forms(self) -> None:
        cid = self.connector.currentData()
        if cid is None:
            return
        system_name = self.services.config.connector(int(cid)).system
        if system_name == self.system_name:
            return
        self.system_name = system_name
        while self.tabs.count() > 1:
            self.tabs.removeTab(1)
        fields = connection_fields(self.services.registry.get(system_name))
        self.forms = {}
        for section in SECTIONS:
            chosen = [f for f in fields if f.section == section]
            if chosen:
                form = FieldForm(chosen)
                form.setObjectName(f"connection_form_{section.lower()}")
                form.changed.connect(lambda: self._set_dirty(True))
                form.set_values(self.info.params if self.info else {})
                self.forms[section] = form
                self.tabs.addTab(scrolled(form), section)
        self.tabs.addTab(self.links, "Links")

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def load(self, info: ConnectionInfo | None) -> None:
        self.info = info
        if self.choices_stale:
            self.refresh_choices()
        self.banner.hide()
        for err in self.errors.values():
            err.hide()
        if info is not None:
            self.alias.setText(info.alias)
            self.connector.setCurrentIndex(self.connector.findText(info.connector))
            self.project.setCurrentIndex(self.project.findText(info.project))
            self.frequency.setCurrentText(info.frequency)
            self.debug.setChecked(info.debug_mode)
            self.system_name = ""
            self._build_forms()
            self.links.load(info.id)
            problem = identity_problem(self.services.store, self.services.registry, info.id)
            self.identity.setText(problem)
            self.identity.setVisible(bool(problem))
            job = get_job(self.services.store, info.last_job_id) if info.last_job_id else None
            self.last_job.setText(f"{job['state']} · {job['last_run'] or ''} · {job['result_message']}"
                                  if job else "never run")
        else:
            self.alias.clear()
            self.debug.setChecked(False)
            self.frequency.setCurrentText("manually")
            self.last_job.setText("never run")
            self.identity.hide()
            self.links.load(None)
            for form in self.forms.values():
                form.set_values({})
        self.del_btn.setEnabled(info is not None)
        self._set_dirty(False)

    def show_links(self, task_id: str = "") -> None:
        """The Links tab, filtered to ``task_id`` when given."""
        self.tabs.setCurrentWidget(self.links)
        if task_id:
            self.links.show_task(task_id)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for form in self.forms.values():
            out.update(form.values())
        return out

    def save(self) -> bool:
        for err in self.errors.values():
            err.hide()
        for form in self.forms.values():
            form.clear_errors()
        self.banner.hide()
        connector = self.connector.currentData()
        try:
            cid = self.services.config.save_connection(
                self.alias.text(), int(connector) if connector is not None else "", self.project.currentText(),
                self.params(), frequency=self.frequency.currentText(), debug_mode=self.debug.isChecked(),
                connection_id=self.info.id if self.info else None)
        except ConfigError as exc:
            self._show_error(exc)
            return False
        self.load(self.services.config.connection(cid))
        self.saved.emit(cid)
        return True

    def _show_error(self, exc: ConfigError) -> None:
        errors = exc.errors if isinstance(exc, FieldErrors) else {exc.field or "": exc}
        unplaced = []
        first_tab = None
        for key, err in errors.items():
            if key in self.errors:
                self.errors[key].setText(f"{err.message} {err.hint}")
                self.errors[key].show()
                first_tab = 0 if first_tab is None else first_tab
                continue
            for i, (_section, form) in enumerate(self.forms.items(), start=1):
                if form.show_error(err):
                    first_tab = i if first_tab is None else first_tab
                    break
            else:
                unplaced.append(str(err))
        if first_tab is not None:
            self.tabs.setCurrentIndex(first_tab)
        if unplaced:
            self.banner.setText("\n".join(unplaced))
            self.banner.show()

    def delete(self) -> None:
        if self.info is None:
            return
        if QMessageBox.question(self, "Delete connection", f"Delete connection {self.info.alias!r} and its "
                                "links? Items in the ALM are not touched.") != QMessageBox.StandardButton.Yes:
            return
        self.services.config.delete_connection(self.info.id)
        self.load(None)
        self.deleted.emit()


class ConnectionPage(QWidget):
    """Connections list (alias, system, project, last job) + editor. Signals: changed(), selected(int)."""

    changed = Signal()
    selected = Signal(int)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QTreeWidget()
        self.list.setObjectName("connection_list")
        self.list.setHeaderLabels(["Alias", "System", "Project", "Last job"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 150)
        self.editor = ConnectionEditor(services)
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
        last_jobs = self._last_jobs([c.last_job_id for c in connections if c.last_job_id])
        registry = self.services.registry
        for info in connections:
            job = last_jobs.get(info.last_job_id or 0)
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

    def _last_jobs(self, ids: list[int]) -> dict[int, tuple[bool, str]]:
        """(succeeded, result message) of each job in ``ids``: plain columns, one query per 500 ids."""
        out: dict[int, tuple[bool, str]] = {}
        with self.services.store.session() as s:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                out.update((r[0], (bool(r[1]), r[2] or "")) for r in s.execute(
                    select(Job.id, Job.succeeded, Job.result_message).where(Job.id.in_(chunk))))
        return out

    def job_finished(self, job_id: int | None) -> None:
        """Refresh the row (and the editor's "Last job") of the connection whose job ended."""
        job = get_job(self.services.store, job_id) if job_id else None
        cid = job["connection_id"] if job else None
        if cid is None:
            return
        try:
            info = self.services.config.connection(int(cid))
        except ConfigError:  # deleted meanwhile
            return
        last = get_job(self.services.store, info.last_job_id) if info.last_job_id else None
        text = "never run" if last is None else f"{'✔' if last['succeeded'] else '✖'} {last['result_message']}"
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == info.id:
                item.setText(3, text)
                item.setToolTip(3, text)
                break
        if self.editor.info is not None and self.editor.info.id == info.id:
            self.editor.info = info
            self.editor.last_job.setText(f"{last['state']} · {last['last_run'] or ''} · {last['result_message']}"
                                         if last else "never run")

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
        return confirm_discard(self, "connection", self.editor.dirty, self.editor.save)

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
