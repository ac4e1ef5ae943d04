"""Small shared dialogs and widgets: inline error labels, a table of links, the target of a job, times.

:class:`TargetBox` is where the Gate and Create Defect dialogs run (their base,
:class:`~almdesk.ui.target_dialog.TargetJobDialog`, is in its own module). :class:`LinkTable` is a read-only table whose URL
cells open in the browser (a click, or the context menu's Open link / Copy link; a browser that cannot
be started is said in the window, see :mod:`almdesk.ui.link_actions`); :func:`error_label` is the red
inline message the views show beside their inputs; :func:`local_time` is how every view writes a time
(local, with the zone: "2026-12-03 16:04 CET").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QContextMenuEvent, QDesktopServices, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from almdesk.services import Services
from almdesk.services.actions import GateReport
from almdesk.systems.base import Capability, TargetInput
from almdesk.ui import theme
from almdesk.ui.link_actions import UrlOpener, copy_link, link_menu, open_link
from almdesk.ui.runner import JobRunner

# tone (almdesk.ui.theme) of an item event's text by its status (sync console, Jobs page)
EVENT_COLORS = {"failed": "failed", "skipped": "muted", "waiting": "warning"}
Index = QModelIndex | QPersistentModelIndex


def local_time(value: datetime | str | float | None, *, seconds: bool = False) -> str:
    """A time as every view writes it: local, with the zone ("2026-12-03 16:04 CET"); "" for none.

    ``value`` is an aware or naive-UTC datetime (the store's), its ISO text, or a Unix time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone()
    return local.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "")) + f" {local.tzname() or ''}".rstrip()


def job_outcome(kind: str, state: str, payload: object = None, data: Mapping[str, Any] | None = None) -> str:
    """A job's state as people read it; a gate that ended is "passed" or "failed" (it ran: its
    ``payload`` is a :class:`~almdesk.services.actions.GateReport`, its stored ``data`` says its
    ``outcome``) or "could not run" (bad input, server trouble: a failure and no report)."""
    if kind != "gate" or state not in ("succeeded", "failed"):
        return state
    if isinstance(payload, GateReport):
        return "passed" if payload.passed else "failed"
    if data is not None and data.get("outcome") in ("passed", "failed"):
        return str(data["outcome"])
    return "passed" if state == "succeeded" else "could not run"


def error_label(name: str) -> QLabel:
    """A hidden, word-wrapped, red label for an inline error; show it with :func:`show_error`."""
    label = QLabel()
    label.setObjectName(name)
    label.setStyleSheet(theme.color_css("failed"))
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def with_error(widget: QWidget, error: QLabel) -> QWidget:
    """``widget`` with its inline error label under it, for a form row."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lay.addWidget(widget)
    lay.addWidget(error)
    return box


def show_error(label: QLabel, message: str, hint: str = "") -> None:
    """Show ``message`` (and ``hint`` on its own line) in ``label``; an empty message hides it."""
    if not message:
        label.clear()
        label.hide()
        return
    label.setText(message + (f"\n{hint}" if hint and hint not in message else ""))
    label.show()


def split_message(message: str, hint: str) -> str:
    """A job's failure message without the " — hint" suffix that ``str(UserFacingError)`` adds."""
    suffix = f" — {hint}"
    return message[: -len(suffix)] if hint and message.endswith(suffix) else message


def refilter(proxy: QSortFilterProxyModel) -> None:
    """Re-run ``proxy``'s filter after its criteria changed (the Qt ≥ 6.10 way when available)."""
    if hasattr(proxy, "beginFilterChange"):
        proxy.beginFilterChange()
        proxy.endFilterChange()
    else:  # pragma: no cover - older Qt
        proxy.invalidateFilter()


def split_csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class RowsModel(QAbstractTableModel):
    """A read-only table over a list of row tuples; ``url_column`` cells look and act like links.

    Rows are appended in batches (one ``beginInsertRows`` per batch), so thousands of rows stay cheap.
    """

    def __init__(self, headers: Sequence[str], url_column: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.url_column = url_column
        self.rows: list[tuple[Any, ...]] = []
        self.urls: list[str] = []
        self.colors: list[str] = []
        self._link_font = QFont()
        self._link_font.setUnderline(True)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.rows[row][col]
            if role == Qt.ItemDataRole.ToolTipRole and col == self.url_column and self.urls[row]:
                return self.urls[row]
            return "" if value is None else str(value)
        if col == self.url_column and self.urls[row]:
            if role == Qt.ItemDataRole.ForegroundRole:
                return theme.tone("link")
            if role == Qt.ItemDataRole.FontRole:
                return self._link_font
        if role == Qt.ItemDataRole.ForegroundRole and self.colors[row]:
            return QColor(theme.tone(self.colors[row]))
        if role == Qt.ItemDataRole.UserRole:
            return self.urls[row]
        return None

    def set_rows(self, rows: Sequence[tuple[Any, ...]], urls: Sequence[str] = (), colors: Sequence[str] = ()) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.urls = list(urls) or [""] * len(self.rows)
        self.colors = list(colors) or [""] * len(self.rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[tuple[Any, ...]], urls: Sequence[str] = (),
                    colors: Sequence[str] = ()) -> None:
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.urls.extend(urls or [""] * len(rows))
        self.colors.extend(colors or [""] * len(rows))
        self.endInsertRows()


class LinkTable(QTableView):
    """A read-only table over a :class:`RowsModel`; clicking a link cell opens its URL, the context
    menu of a row with a link opens or copies it, Ctrl+Shift+C copies the current row's link.

    ``opener`` opens URLs (``QDesktopServices.openUrl`` unless a test swaps it); when it fails the
    window says so with the link to copy (:func:`~almdesk.ui.link_actions.open_link`).
    """

    def __init__(self, model: RowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.rows_model = model
        self.opener: UrlOpener = QDesktopServices.openUrl
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.clicked.connect(self._clicked)
        copy = QShortcut(QKeySequence("Ctrl+Shift+C"), self)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(lambda: copy_link(self.url_at(self.currentIndex())))

    def _source(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        source = index if isinstance(index, QModelIndex) else self.model().index(index.row(), index.column())
        model = self.model()
        while isinstance(model, QSortFilterProxyModel):
            source = model.mapToSource(source)
            model = model.sourceModel()
        return source

    def url_at(self, index: QModelIndex | QPersistentModelIndex) -> str:
        """The link of ``index``'s row ("" without one)."""
        source = self._source(index)
        if not source.isValid() or source.row() >= len(self.rows_model.urls):
            return ""
        return str(self.rows_model.urls[source.row()] or "")

    def _clicked(self, index: QModelIndex) -> None:
        if self._source(index).column() == self.rows_model.url_column:
            open_link(self, self.url_at(index), self.opener)

    def menu_for(self, index: QModelIndex) -> Any:
        """The context menu of ``index``'s row (Open link, Copy link); None when the row has no link."""
        return link_menu(self, self.url_at(index), self.opener)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.menu_for(self.indexAt(event.pos()))
        if menu is not None:
            menu.popup(event.globalPos())


class TargetBox(QWidget):
    """Where a gate or defect runs: a connection, or a connector plus a workspace typed or picked.

    Signals: changed().
    """

    changed = Signal()

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None = None,
                 connector_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.combo = QComboBox()
        self.combo.setObjectName("target")
        for info in services.config.connections():
            self.combo.addItem(f"Connection: {info.alias}  ({info.system}, project {info.project or '—'})",
                               f"connection:{info.id}")
        targets = set(services.registry.alm_targets())
        for cinfo in (c for c in services.config.connectors() if c.system in targets):
            self.combo.addItem(f"Connector: {cinfo.name}  ({cinfo.system}) + workspace", f"connector:{cinfo.id}")
        wanted = f"connection:{connection_id}" if connection_id is not None else f"connector:{connector_id}"
        self.combo.setCurrentIndex(max(self.combo.findData(wanted), 0))
        self.workspace = QLineEdit()
        self.workspace.setObjectName("workspace")
        self.workspace.setPlaceholderText("workspace / project id (empty: the connector's own)")
        self.pick_btn = QPushButton("Pick…")
        self.pick_btn.setObjectName("pick_workspace")
        self.pick_btn.setToolTip("Sign in and list the workspaces this connector can use.")
        self.pick_btn.clicked.connect(self.pick)
        self.workspace_row = QWidget()
        row = QHBoxLayout(self.workspace_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.workspace, 1)
        row.addWidget(self.pick_btn)
        self.combo.currentIndexChanged.connect(lambda _i: self._update())
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo)
        self._update()

    def empty(self) -> bool:
        return self.combo.count() == 0

    def ids(self) -> tuple[int | None, int | None]:
        """``(connection_id, connector_id)`` — exactly one is set, or both None without targets."""
        data = self.combo.currentData()
        if not data:
            return None, None
        kind, ident = str(data).split(":", 1)
        return (int(ident), None) if kind == "connection" else (None, int(ident))

    def system_name(self) -> str:
        connection, connector = self.ids()
        if connection is not None:
            return self.services.config.connection(connection).system
        if connector is not None:
            return self.services.config.connector(connector).system
        return ""

    def workspace_value(self) -> str:
        """The workspace typed for a connector target ("" for a connection: it has its own)."""
        return self.workspace.text().strip() if self.ids()[1] is not None else ""

    def target_input(self) -> TargetInput:
        """What the chosen connector's system calls its target (label, placeholder, fields)."""
        system = self.system_name()
        return self.services.registry.get(system).target if system else TargetInput()

    def workspace_label(self) -> str:
        return self.target_input().label

    def input_for(self, field: str | None) -> str:
        """The dialog input a failed job's ``field`` belongs to ("workspace" or the field itself)."""
        _connection, connector = self.ids()
        if field == "workspace" or field in self.target_input().fields:
            return "workspace" if connector is not None else ""
        if field in ("connection", "connector"):
            return "target"
        return field or ""

    def _update(self) -> None:
        _connection, connector = self.ids()
        self.workspace_row.setVisible(connector is not None)
        system = self.system_name()
        self.workspace.setPlaceholderText(self.target_input().placeholder)
        can_pick = bool(system) and Capability.WORKSPACES in self.services.registry.get(system).capabilities
        self.pick_btn.setVisible(can_pick)

    def pick(self) -> None:
        from almdesk.ui.workspace_picker import pick_workspace

        _conn, connector = self.ids()
        if connector is None:
            return
        chosen = pick_workspace(self, self.services, self.runner, connector)
        if chosen:
            self.workspace.setText(chosen)


NO_TARGET_HINT = "Create a connector (and a connection) first, or try the sandbox."
