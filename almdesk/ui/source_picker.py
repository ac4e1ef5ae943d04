"""Projects bound to SD Elements in the GUI: the picker (business unit → application → project) and
the source panel of the Projects page (source, last refresh, counts, Refresh).

:class:`SourcePickerDialog` lists the server's hierarchy in a worker job (three paged reads, never on
the UI thread) and filters it as you type; picking a project and pressing Bind creates the local
project bound to it and queues its first refresh. :class:`SourcePanel` shows a project's source and
refreshes it as a job. Signals: ``SourcePickerDialog.bound(int)`` (the new project's id),
``SourcePanel.refreshed()``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.errors import ConfigError, UserFacingError
from almdesk.jobs.context import Failure
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.services.specs import SourceTree, hierarchy_spec
from almdesk.sources import bind_project, source_of
from almdesk.ui.dialogs import error_label, show_error
from almdesk.ui.icons import StatusLabel, icon
from almdesk.ui.runner import JobRunner

ROLE = Qt.ItemDataRole.UserRole


def source_connectors(services: Services) -> list[str]:
    """Names of the connectors of task-source systems (SD Elements)."""
    targets = set(services.registry.alm_targets())
    return [c.name for c in services.config.connectors() if c.system not in targets]


class SourcePickerDialog(QDialog):
    """Bind a new local project to an SD Elements project. Signals: bound(int)."""

    bound = Signal(int)

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner = services, runner
        self.project_id: int | None = None
        self._handle: int | None = None
        self.setWindowTitle("Bind a project to SD Elements")
        self.connector = QComboBox()
        self.connector.setObjectName("source_connector")
        for name in source_connectors(services):
            self.connector.addItem(name, name)
        self.load_btn = QPushButton(icon("refresh"), "&List projects")
        self.load_btn.setObjectName("list_projects")
        self.load_btn.clicked.connect(self.load)
        self.filter = QLineEdit()
        self.filter.setObjectName("source_filter")
        self.filter.setPlaceholderText("Filter business units, applications and projects")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        self.tree = QTreeWidget()
        self.tree.setObjectName("source_tree")
        self.tree.setHeaderLabels(["Business unit / application / project", "Id"])
        self.tree.setColumnWidth(0, 360)
        self.tree.currentItemChanged.connect(lambda cur, _prev: self._picked())
        self.name = QLineEdit()
        self.name.setObjectName("bound_name")
        self.unaccepted = QComboBox()
        self.unaccepted.setObjectName("bound_unaccepted")
        self.unaccepted.addItem("Accepted tasks only", False)
        self.unaccepted.addItem("Also tasks not accepted yet", True)
        self.status = StatusLabel("source_status")
        self.error = error_label("source_error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.bind_btn = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.bind_btn.setText("&Bind")
        self.bind_btn.setEnabled(False)
        self.buttons.accepted.connect(self.bind)
        self.buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        connector_label = QLabel("&Connector:")
        connector_label.setBuddy(self.connector)
        top.addWidget(connector_label)
        top.addWidget(self.connector, 1)
        top.addWidget(self.load_btn)
        form = QFormLayout()
        form.addRow("Local &name *", self.name)
        form.addRow("&Tasks", self.unaccepted)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.filter)
        lay.addWidget(self.tree, 1)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.resize(620, 560)
        for first, second in ((self.connector, self.load_btn), (self.load_btn, self.filter), (self.filter, self.tree),
                              (self.tree, self.name), (self.name, self.unaccepted), (self.unaccepted, self.buttons)):
            QWidget.setTabOrder(first, second)
        runner.finished.connect(self._finished)
        if self.connector.count() == 0:
            self.load_btn.setEnabled(False)
            self.status.set_status("info", "No SD Elements connector yet: add one on the Connectors page first.")

    def load(self) -> int | None:
        name = self.connector.currentData()
        if not name:
            return None
        show_error(self.error, "")
        self.status.set_status("running", f"Reading the projects of {name}…")
        self.load_btn.setEnabled(False)
        self._handle = self.runner.submit(hierarchy_spec(self.services, str(name)))
        return self._handle

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self._handle:
            return
        self._handle = None
        self.load_btn.setEnabled(True)
        if result is None or result.state != "succeeded" or not isinstance(result.outcome.payload, SourceTree):
            self.status.clear()
            why = result.outcome.why() if result is not None else Failure("Cancelled.")
            show_error(self.error, why.message, why.hint)
            return
        self.status.set_status("ok", result.outcome.message)
        self.fill(result.outcome.payload)

    def fill(self, tree: SourceTree) -> None:
        self.tree.clear()
        apps_by_unit: dict[Any, list[dict[str, Any]]] = {}
        for app in tree.applications:
            apps_by_unit.setdefault(app.get("business_unit"), []).append(app)
        projects_by_app: dict[Any, list[dict[str, Any]]] = {}
        for project in tree.projects:
            projects_by_app.setdefault(project.get("application"), []).append(project)
        for unit in tree.units:
            u = QTreeWidgetItem([unit["name"], str(unit["id"])])
            self.tree.addTopLevelItem(u)
            for app in apps_by_unit.get(unit["id"], []):
                a = QTreeWidgetItem([app["name"], str(app["id"])])
                u.addChild(a)
                for project in projects_by_app.get(app["id"], []):
                    p = QTreeWidgetItem([project["name"], str(project["id"])])
                    p.setData(0, ROLE, {"id": project["id"], "name": project["name"], "application": app["name"],
                                        "business_unit": unit["name"]})
                    a.addChild(p)
        self.tree.expandAll()
        self.apply_filter()

    def apply_filter(self) -> None:
        text = self.filter.text().strip().lower()

        def visit(item: QTreeWidgetItem, parent_match: bool) -> bool:
            match = parent_match or not text or text in item.text(0).lower()
            shown = match
            for i in range(item.childCount()):
                child = item.child(i)
                if child is not None:
                    shown = visit(child, match) or shown
            item.setHidden(not shown)
            return shown

        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is not None:
                visit(top, False)

    def picked(self) -> dict[str, Any] | None:
        item = self.tree.currentItem()
        data = item.data(0, ROLE) if item is not None else None
        return data if isinstance(data, dict) else None

    def _picked(self) -> None:
        data = self.picked()
        self.bind_btn.setEnabled(data is not None)
        if data is not None and not self.name.text().strip():
            self.name.setText(str(data["name"]))

    def bind(self) -> None:
        data = self.picked()
        if data is None:
            return
        show_error(self.error, "")
        try:
            pid = self.services.config.add_project(self.name.text(), data["business_unit"], data["application"])
            bind_project(self.services.store, self.services.registry, pid, str(self.connector.currentData()),
                         int(data["id"]), include_unaccepted=bool(self.unaccepted.currentData()))
        except ConfigError as exc:
            show_error(self.error, exc.message, exc.hint)
            return
        self.project_id = pid
        self.runner.submit(self.services.refresh_spec(self.name.text().strip()))
        self.bound.emit(pid)
        self.accept()


class SourcePanel(QWidget):
    """A project's source line on the Projects page, with Refresh. Signals: refreshed()."""

    refreshed = Signal()

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner = services, runner
        self.project: str = ""
        self._handle: int | None = None
        self.label = StatusLabel("project_source")
        self.refresh_btn = QPushButton(icon("refresh"), "&Refresh")
        self.refresh_btn.setToolTip("Pull this project's tasks from SD Elements now (also done at the start of every sync).")
        self.refresh_btn.setObjectName("refresh_project")
        self.refresh_btn.clicked.connect(self.refresh)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.refresh_btn)
        runner.finished.connect(self._finished)
        self.setVisible(False)

    def show_project(self, row: dict[str, Any] | None) -> None:
        """Show ``row`` (one of ``config.projects()``); hidden for a file-based project."""
        source = source_of(self.services.store, int(row["id"])) if row else None
        self.setVisible(source is not None)
        if source is None or row is None:
            self.project = ""
            return
        self.project = source.project
        counts = source.counts or {}
        when = source.last_refresh.astimezone().strftime("%Y-%m-%d %H:%M") if source.last_refresh else "never"
        detail = (f"{counts.get('total', 0)} tasks ({counts.get('created', 0)} new, {counts.get('updated', 0)} "
                  f"changed" + (f", {counts['skipped']} left out" if counts.get("skipped") else "") + ")"
                  ) if counts else ""
        text = (f"SD Elements project #{source.server_project} {counts.get('server_project', '')} on "
                f"{source.connector} · refreshed {when}" + (f" · {detail}" if detail else "")
                + (" · unaccepted included" if source.include_unaccepted else ""))
        self.label.set_status("links", text)
        self.label.setToolTip(text)
        self.refresh_btn.setEnabled(self._handle is None)

    def refresh(self) -> int | None:
        if not self.project:
            return None
        try:
            spec = self.services.refresh_spec(self.project)
        except UserFacingError as exc:
            self.label.set_status("failed", exc.message)
            return None
        self.refresh_btn.setEnabled(False)
        self._handle = self.runner.submit(spec)
        return self._handle

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self._handle:
            return
        self._handle = None
        self.refresh_btn.setEnabled(True)
        if result is not None and result.state != "succeeded":
            self.label.set_status("failed", result.outcome.message)
            return
        self.refreshed.emit()
