"""A connection's links as a filterable table: task, title, ALM item, state, status, last seen, URL.

Draws what :func:`almdesk.sync.link_admin.list_links` returns and calls the same core functions as
``almdesk links / link / unlink`` (the Link… call is built by :func:`almdesk.services.links.link_call`). Copy link puts the item's URL on the clipboard, Open opens it (also a
double-click), Unlink detaches the task, Link… attaches it to an existing item named by key, number or
URL; the look-up of that item runs in a worker thread, never in the UI thread. A row's context menu
opens or copies its link too; when no browser can be started the window says so with the link to
copy. "Last seen" is local time with the zone; state colours are palette tones.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import QBrush, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.errors import UserFacingError
from almdesk.services import Services
from almdesk.services.links import link_call
from almdesk.sync.link_admin import STATES, LinkView, filter_links, list_links, unlink_task
from almdesk.ui import theme
from almdesk.ui.dialogs import local_time
from almdesk.ui.icons import icon
from almdesk.ui.link_actions import copy_link, link_menu, open_link

COLUMNS = ("Task", "Title", "ALM item", "State", "Status", "Last seen", "URL")
STATE_COLORS = {"detached": "warning", "failed": "failed"}  # tones of almdesk.ui.theme


class _LinkWorker(QObject):
    """Runs one ``link_task`` call in a worker thread. Signals: done(object) — a LinkView or the error."""

    done = Signal(object)

    def __init__(self, call: Callable[[], LinkView]) -> None:
        super().__init__()
        self.call = call

    @Slot()
    def run(self) -> None:
        try:
            self.done.emit(self.call())
        except UserFacingError as exc:
            self.done.emit(exc)


class LinksView(QWidget):
    """The links of one connection. Signals: changed() — a task was linked or detached here."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.connection_id: int | None = None
        self.rows: list[LinkView] = []
        self.opener: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.ask_item: Callable[[str], str | None] = self._ask_item
        self._thread: QThread | None = None
        self._worker: _LinkWorker | None = None
        self.filter = QLineEdit()
        self.filter.setObjectName("links_filter")
        self.filter.setPlaceholderText("Filter by task, title, item, status or URL")
        self.filter.setClearButtonEnabled(True)
        self.state = QComboBox()
        self.state.setObjectName("links_state")
        self.state.addItem("All states", "")
        for state in STATES:
            self.state.addItem(state, state)
        self.table = QTreeWidget()
        self.table.setObjectName("links_table")
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setColumnWidth(0, 70)
        self.table.setColumnWidth(1, 220)
        self.table.itemDoubleClicked.connect(lambda _i, _c: self.open_link())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.count = QLabel()
        self.count.setObjectName("links_count")
        self.message = QLabel()
        self.message.setObjectName("links_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(theme.color_css("failed"))
        self.message.hide()
        self.copy_btn = QPushButton(icon("copy"), "&Copy link")
        self.open_btn = QPushButton(icon("link"), "&Open")
        self.unlink_btn = QPushButton("&Unlink")
        self.link_btn = QPushButton("&Link…")
        for name, button, slot in (("links_copy", self.copy_btn, self.copy_link), ("links_open", self.open_btn,
                                                                                   self.open_link),
                                   ("links_unlink", self.unlink_btn, self.unlink),
                                   ("links_link", self.link_btn, self.link)):
            button.setObjectName(name)
            button.clicked.connect(slot)
        self.filter.textChanged.connect(lambda _t: self.redraw())
        self.state.currentIndexChanged.connect(lambda _i: self.redraw())
        self.table.currentItemChanged.connect(lambda _c, _p: self._buttons())
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.state)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        for button in (self.copy_btn, self.open_btn, self.unlink_btn, self.link_btn):
            buttons.addWidget(button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self._buttons()

    # --- data ---------------------------------------------------------------------------------
    def load(self, connection_id: int | None) -> None:
        self.connection_id = connection_id
        self.message.hide()
        self.reload()

    def reload(self) -> None:
        try:
            self.rows = list_links(self.services.store, self.connection_id) if self.connection_id else []
        except UserFacingError as exc:  # e.g. a connection without a project
            self.rows = []
            self._say(str(exc))
        self.redraw()

    def show_task(self, task_id: str) -> None:
        """Filter to one task and select its row (the sync console's rows lead here)."""
        self.state.setCurrentIndex(0)
        self.filter.setText(task_id)
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and item.text(0) == task_id:
                self.table.setCurrentItem(item)
                break

    def visible(self) -> list[LinkView]:
        return filter_links(self.rows, self.filter.text(), str(self.state.currentData() or ""))

    def redraw(self) -> None:
        current = self.selected()
        self.table.clear()
        shown = self.visible()
        for row in shown:
            seen = local_time(row.seen)
            item = QTreeWidgetItem([row.task_id, row.title, row.alm_key, row.state, row.status, seen, row.url])
            item.setData(0, Qt.ItemDataRole.UserRole, row.task_id)
            if row.message:
                item.setToolTip(3, row.message)
            color = STATE_COLORS.get(row.state)
            if color:
                item.setForeground(3, QBrush(theme.tone(color)))
            self.table.addTopLevelItem(item)
            if current is not None and row.task_id == current.task_id:
                self.table.setCurrentItem(item)
        self.count.setText(f"{len(shown)} of {len(self.rows)} link(s)")
        self._buttons()

    def selected(self) -> LinkView | None:
        item = self.table.currentItem()
        if item is None:
            return None
        task_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.rows if r.task_id == task_id), None)

    def _buttons(self) -> None:
        row = self.selected()
        has_url = bool(row and row.url)
        self.copy_btn.setEnabled(has_url)
        self.open_btn.setEnabled(has_url)
        self.unlink_btn.setEnabled(bool(row and row.state != "detached"))
        self.link_btn.setEnabled(row is not None and self._thread is None)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- actions ------------------------------------------------------------------------------
    def copy_link(self) -> None:
        row = self.selected()
        if row and row.url:
            copy_link(row.url)

    def open_link(self) -> None:
        row = self.selected()
        if row and row.url:
            open_link(self, row.url, self.opener)

    def _menu(self, pos: QPoint) -> None:
        item = self.table.itemAt(pos)
        if item is not None:
            self.table.setCurrentItem(item)
        row = self.selected()
        if row is not None:
            link_menu(self, row.url, self.opener, self.table.viewport().mapToGlobal(pos))

    def unlink(self) -> None:
        row = self.selected()
        if row is None or self.connection_id is None:
            return
        try:
            unlink_task(self.services.store, self.connection_id, row.task_id)
        except UserFacingError as exc:
            self._say(str(exc))
            return
        self._say("")
        self.reload()
        self.changed.emit()

    def _ask_item(self, task_id: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Link to an existing item",
                                        f"Key, number or URL of the item for {task_id}:")
        return text.strip() if ok and text.strip() else None

    def link(self) -> None:
        row = self.selected()
        if row is None or self.connection_id is None or self._thread is not None:
            return
        text = self.ask_item(row.task_id)
        if not text:
            return
        call = link_call(self.services, self.connection_id, row.task_id, text)
        self._say("")
        self._thread = QThread(self)
        self._worker = _LinkWorker(call)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self._linked)
        self._buttons()
        self._thread.start()

    def busy(self) -> bool:
        return self._thread is not None

    def _linked(self, result: object) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._worker = None, None
        if isinstance(result, UserFacingError):
            self._say(str(result))
            self._buttons()
            return
        self.reload()
        if isinstance(result, LinkView):
            self.show_task(result.task_id)
        self.changed.emit()
