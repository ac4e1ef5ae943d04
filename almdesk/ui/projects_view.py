"""The Projects page: local projects, their tasks (filtered, loaded page by page) and task import.

The task table is a :class:`TasksModel` that reads ``PAGE`` rows at a time as the user scrolls
(keyset paging on the row id, through :mod:`almdesk.services.tasks`), so a project of 50,000 tasks
opens instantly. Importing a CSV/JSON file runs as a job in the runner (``services.tasks.import_spec``);
a rejected file's line and column are shown inline. The New project dialog is
:mod:`almdesk.ui.project_dialog`. Keyboard: Tab follows the page (list, its buttons, the SD Elements
panel, the filters, the table, Import); Ctrl+F goes to the search box.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.services.tasks import (
    TaskFilter,
    TaskLine,
    import_available,
    import_spec,
    task_count,
    task_page,
    task_phases,
    tasks_ahead,
)
from almdesk.ui import theme
from almdesk.ui.dialogs import error_label, show_error
from almdesk.ui.icons import StatusLabel, icon
from almdesk.ui.project_dialog import NewProjectDialog
from almdesk.ui.runner import JobRunner
from almdesk.ui.source_picker import SourcePanel, SourcePickerDialog

PAGE = 500
TITLE_MIN = 220  # px: the Title column is never narrower (the table scrolls sideways instead)
STATUSES = ("TODO", "DONE", "NA")
COLUMNS = ("Task", "Title", "Phase", "Priority", "Status", "Verification", "Tags", "Updated")
Index = QModelIndex | QPersistentModelIndex


class TasksModel(QAbstractTableModel):
    """One project's tasks matching the filters, fetched lazily ``PAGE`` rows at a time."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.project_id: int | None = None
        self.filters: dict[str, Any] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.total = 0
        self._last_id = 0

    def _filter(self) -> TaskFilter:
        f = self.filters
        return TaskFilter(str(f.get("phase") or ""), str(f.get("status") or ""), str(f.get("text") or ""),
                          int(f.get("min_priority", 1)))

    def load(self, project_id: int | None, **filters: Any) -> None:
        """Show ``project_id``'s tasks matching ``filters`` (phase, status, text, min_priority)."""
        self.beginResetModel()
        self.project_id = project_id
        self.filters = filters
        self.rows = []
        self._last_id = 0
        self.total = 0
        if project_id is not None:
            self.total = task_count(self.services.store, project_id, self._filter())
            self._fetch()
        self.endResetModel()

    def _fetch(self) -> int:
        if self.project_id is None:
            return 0
        page: list[TaskLine] = task_page(self.services.store, self.project_id, self._filter(), self._last_id, PAGE)
        if page:
            self._last_id = page[-1].row_id
        self.rows.extend(line.cells() for line in page)
        return len(page)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        first = len(self.rows)
        ahead = (tasks_ahead(self.services.store, self.project_id, self._filter(), self._last_id, PAGE)
                 if self.project_id is not None else 0)
        if not ahead:
            self.total = first
            return
        self.beginInsertRows(QModelIndex(), first, first + ahead - 1)
        got = self._fetch()
        del self.rows[first + ahead:]
        self.endInsertRows()
        if got != ahead:  # the store changed under us; start over
            self.load(self.project_id, **self.filters)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return str(row[index.column()])
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 4 and row[4] in ("DONE", "NA"):
            return theme.tone(row[4])
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class ProjectsView(QWidget):
    """Projects list + filtered task table + import. Signals: changed() after a project is added."""

    changed = Signal()

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self._import_handle: int | None = None
        self._stale = False
        self.list = QTreeWidget()
        self.list.setObjectName("project_list")
        self.list.setHeaderLabels(["Project", "Tasks", "Business unit / application"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 120)
        self.list.setColumnWidth(1, 64)
        self.list.currentItemChanged.connect(lambda cur, _prev: self._project_changed())
        new_btn = QPushButton(icon("add"), "&New project…")
        new_btn.setObjectName("new_project")
        new_btn.clicked.connect(self.new_project)
        bind_btn = QPushButton(icon("links"), "&Bind to SD Elements…")
        bind_btn.setObjectName("bind_project")
        bind_btn.clicked.connect(self.bind_project)
        self.source = SourcePanel(services, runner, self)
        self.source.refreshed.connect(lambda: self.reload())

        self.phase = QComboBox()
        self.phase.setObjectName("filter_phase")
        self.phase.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status = QComboBox()
        self.status.setObjectName("filter_status")
        self.status.addItem("Any status", "")
        for status in STATUSES:
            self.status.addItem(status, status)
        self.search = QLineEdit()
        self.search.setObjectName("filter_text")
        self.search.setPlaceholderText("Search task id or title")
        self.search.setClearButtonEnabled(True)
        self.min_priority = QSpinBox()
        self.min_priority.setObjectName("filter_priority")
        self.min_priority.setRange(1, 10)
        self.min_priority.setPrefix("priority ≥ ")
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        for combo in (self.phase, self.status):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.min_priority.valueChanged.connect(lambda _v: self._debounce.start())
        self.import_btn = QPushButton(icon("import"), "&Import tasks…")
        self.import_btn.setObjectName("import_tasks")
        self.import_btn.clicked.connect(self.import_tasks)
        if not import_available():
            self.import_btn.setEnabled(False)
            self.import_btn.setToolTip("Task import is not available in this build (almdesk.sync.tasks_io).")
        else:
            self.import_btn.setToolTip("Import tasks from a CSV or JSON file; a bad row rejects the whole file.")

        self.model = TasksModel(services, self)
        self.table = QTableView()
        self.table.setObjectName("task_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        stamp = self.table.fontMetrics().horizontalAdvance("2026-12-31 23:59") + 18
        for col, width in enumerate((64, 300, 140, 56, 56, 84, 90, stamp)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.table.viewport().installEventFilter(self)  # the Title column takes the room left, at least TITLE_MIN
        self.count_label = QLabel()
        self.count_label.setObjectName("task_count")
        self.import_status = StatusLabel("import_status")
        self.import_error = error_label("import_error")
        self.empty = QLabel("No project yet. Press New project… to create one, then import its tasks.")
        self.empty.setObjectName("projects_empty")
        self.empty.setWordWrap(True)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.list, 1)
        ll.addWidget(new_btn)
        ll.addWidget(bind_btn)
        filters = QHBoxLayout()
        for text, combo in (("P&hase:", self.phase), ("S&tatus:", self.status)):
            buddy = QLabel(text)
            buddy.setBuddy(combo)
            filters.addWidget(buddy)
            filters.addWidget(combo)
        filters.addWidget(self.min_priority)
        filters.addWidget(self.search, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.count_label, 1)
        foot.addWidget(self.import_btn)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.source)
        rl.addLayout(filters)
        rl.addWidget(self.empty)
        rl.addWidget(self.table, 1)
        rl.addWidget(self.import_status)
        rl.addWidget(self.import_error)
        rl.addLayout(foot)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([330, 870])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        # Tab follows the page: the list and its buttons, the SD Elements panel, the filters, the table, Import
        chain = [self.list, new_btn, bind_btn, self.source, self.phase, self.status, self.min_priority, self.search,
                 self.table, self.import_btn]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)
        self.search.setToolTip("Search task id or title (Ctrl+F)")
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self._find)
        runner.finished.connect(self._job_finished)
        self.reload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_title()
        return False

    def _fit_title(self) -> None:
        """Title gets the table's width less the other columns, never under TITLE_MIN (then the table scrolls
        sideways): a stretched column shrank to "…" at 1024 px."""
        others = sum(self.table.columnWidth(c) for c in range(len(COLUMNS)) if c != 1)
        self.table.setColumnWidth(1, max(TITLE_MIN, self.table.viewport().width() - others))

    def _find(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # --- projects -----------------------------------------------------------------------------
    def current_project(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def reload(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else self.current_project()
        self.list.blockSignals(True)
        self.list.clear()
        chosen = None
        self._rows = {p["id"]: p for p in self.services.config.projects()}
        for p in self._rows.values():
            owner = " / ".join(x for x in (p["business_unit"], p["application"]) if x)
            item = QTreeWidgetItem([("⇄ " if p["source"] else "") + p["name"], f"{p['tasks']:,}", owner])
            item.setData(0, Qt.ItemDataRole.UserRole, p["id"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            path = " / ".join(x for x in (p["business_unit"], p["application"], p["name"]) if x)
            item.setToolTip(0, path)
            item.setToolTip(2, path)
            self.list.addTopLevelItem(item)
            if p["id"] == keep or chosen is None:
                chosen = item
        self.list.blockSignals(False)
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        self._project_changed()

    def new_project(self) -> int | None:
        dialog = NewProjectDialog(self.services, self)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.project_id is None:
                return None
            self.reload(dialog.project_id)
            self.changed.emit()
            return dialog.project_id
        finally:
            dialog.deleteLater()

    def bind_project(self) -> int | None:
        dialog = SourcePickerDialog(self.services, self.runner, self)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.project_id is None:
                return None
            self.reload(dialog.project_id)
            self.changed.emit()
            return dialog.project_id
        finally:
            dialog.deleteLater()

    def _project_changed(self) -> None:
        pid = self.current_project()
        has = pid is not None
        self.source.show_project(getattr(self, "_rows", {}).get(pid))
        self.empty.setVisible(self.list.topLevelItemCount() == 0)
        for w in (self.phase, self.status, self.search, self.min_priority, self.table):
            w.setEnabled(has)
        self.import_btn.setEnabled(has and import_available() and self._import_handle is None)
        phases = task_phases(self.services.store, pid) if pid is not None else []
        current = self.phase.currentData()
        self.phase.blockSignals(True)
        self.phase.clear()
        self.phase.addItem("Any phase", "")
        for phase in phases:
            self.phase.addItem(phase, phase)
        self.phase.setCurrentIndex(max(self.phase.findData(current), 0))
        self.phase.blockSignals(False)
        self.apply_filters()

    def apply_filters(self) -> None:
        self._debounce.stop()
        self.model.load(self.current_project(), phase=self.phase.currentData() or "",
                        status=self.status.currentData() or "", text=self.search.text(),
                        min_priority=self.min_priority.value())
        if self.current_project() is None:
            self.count_label.setText("")
            return
        filtered = bool(self.phase.currentData() or self.status.currentData() or self.search.text().strip()
                        or self.min_priority.value() > 1)
        self.count_label.setText(f"{self.model.total:,} task(s)" + (" match the filters" if filtered else ""))

    # --- import -------------------------------------------------------------------------------
    def choose_file(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(self, "Import tasks", str(Path.home()),
                                                    "Tasks (*.csv *.json);;All files (*)")
        return path

    def import_tasks(self, path: str | None = None) -> int | None:
        """Ask for a file (unless ``path`` is given) and import it into the project, as a job."""
        pid = self.current_project()
        if pid is None or not import_available():
            return None
        path = path or self.choose_file()
        if not path:
            return None
        item = self.list.currentItem()
        name = item.text(0) if item is not None else ""
        spec = import_spec(self.services.store, pid, name, path)
        show_error(self.import_error, "")
        self.import_status.set_status("running", f"Importing {Path(path).name} into {name}…")
        self.import_btn.setEnabled(False)
        self._import_handle = self.runner.submit(spec, queue=f"import:{pid}")
        return self._import_handle

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def _job_finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self._import_handle:
            if result is not None and result.outcome.counts.get("local_updated"):  # a sync changed task statuses
                self._stale = True
                if self.isVisible():
                    self._stale = False
                    self.reload()
            return
        self._import_handle = None
        self.import_btn.setEnabled(self.current_project() is not None and import_available())
        if result is None:
            self.import_status.set_status("cancelled", "Import cancelled; nothing changed.")
            return
        if result.state != "succeeded":
            why = result.outcome.why()
            self.import_status.clear()
            show_error(self.import_error, why.message, why.hint)
            return
        self.import_status.set_status("ok", result.outcome.message)
        self.reload()
        self.changed.emit()

