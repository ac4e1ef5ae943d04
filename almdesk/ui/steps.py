"""The Test Connection step list: each step with its state, time and result, updated live, and a
detail pane under the list with the selected step's full result and hint.

Contract: feed it :class:`~almdesk.jobs.context.JobEvent` s carrying ``step`` (:meth:`StepList.on_event`)
and the job's result (:meth:`StepList.on_finished`, which reads the typed ``JobOutcome.steps``); it only
draws. The Result column always takes the width left (no horizontal scrolling, rows wrap), so step
names and results stay readable at 1024×700 without tooltips. **Copy diagnostic** (button and context
menu) puts the steps, statuses, details, hints and timings on the clipboard as plain text; any value
given to :meth:`StepList.set_secrets` is masked in it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.records import StepResult
from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult
from almdesk.ui import theme
from almdesk.ui.icons import icon

# Text marks for the statuses, shown where the icon set has no icon (and in the summary line).
GLYPHS = {"pending": "○", "running": "◌", "ok": "✔", "warning": "⚠", "failed": "✖", "skipped": "–"}
WORDS = {"pending": "pending", "running": "running", "ok": "ok", "warning": "warning", "failed": "FAILED",
         "skipped": "not run"}
STATUS_ROLE = Qt.ItemDataRole.UserRole
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
HINT_ROLE = Qt.ItemDataRole.UserRole + 2
SECONDS_ROLE = Qt.ItemDataRole.UserRole + 3


def duration(seconds: float) -> str:
    """A step's time as people read it: ``840 ms``, ``3.0 s``, ``1 min 5 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def wrapped_height(text: str, font: QFont, width: int) -> int:
    """The height ``text`` takes word-wrapped to ``width`` pixels (as the item views draw it)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    height = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(width, 20))
        height += line.height()
    layout.endLayout()
    return max(int(height + 0.999), QFontMetrics(font).height())


class _WrapResults(QStyledItemDelegate):
    """Rows as tall as their wrapped Result; the Result drawn wrapping, never elided."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if index.column() == 3:
            option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
            option.textElideMode = Qt.TextElideMode.ElideNone

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if index.column() != 3:
            return size
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        width = self.tree.columnWidth(3) - 10  # the item's text margins
        return QSize(size.width(), max(size.height(), wrapped_height(opt.text, opt.font, width) + 4))


class StepList(QWidget):
    """Test Connection progress from job events (``JobEvent.step``) and the final typed step results.

    Columns: status icon, Step, Time, Result (wrapping, stretching). ``summary`` holds the final line
    (``✔ …`` / ``✖ …``); ``detail`` the selected step in full. No signals.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Test Connection")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.copy_btn = QPushButton("&Copy diagnostic")
        self.copy_btn.setObjectName("copy_diagnostic")
        self.copy_btn.setIcon(icon("copy"))
        self.copy_btn.setToolTip("Copy the steps, their results, hints and timings as plain text")
        self.copy_btn.clicked.connect(self.copy_diagnostic)
        self.copy_btn.setEnabled(False)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.copy_btn)
        self.tree = QTreeWidget()
        self.tree.setObjectName("step_tree")
        self.tree.setHeaderLabels(["", "Step", "Time", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(20)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.tree.setItemDelegate(_WrapResults(self.tree))
        header.sectionResized.connect(self._rewrap)
        self.tree.setColumnWidth(0, 28)
        self.summary = QLabel("Press Test Connection to check every step from DNS to permissions.")
        self.summary.setObjectName("step_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("step_detail")
        self.detail.setReadOnly(True)
        self.detail.setFrameShape(QPlainTextEdit.Shape.StyledPanel)
        self.detail.setFixedHeight(92)
        self.detail.setPlaceholderText("Select a step to read its full result.")
        self.detail.setTabChangesFocus(True)
        self.action_bar = QHBoxLayout()  # buttons that act on the result (e.g. Trust this certificate)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.summary)
        lay.addWidget(self.detail)
        lay.addLayout(self.action_bar)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._started: dict[str, float] = {}
        self._final = ""
        self._secrets: set[str] = set()
        self.tree.currentItemChanged.connect(self._show_detail)

    def _rewrap(self, column: int, _old: int, _new: int) -> None:
        if column == 3:  # the rows' heights follow the Result column's width
            self.tree.scheduleDelayedItemsLayout()

    # --- feeding ----------------------------------------------------------------------------
    def set_secrets(self, values: Iterable[str]) -> None:
        """Values masked in the details and the diagnostic (e.g. the secrets the test was given)."""
        self._secrets = {v for v in values if v and len(v) >= 4}

    def reset(self, text: str = "Testing…") -> None:
        """Forget the last run: no step, no time, no result left over from it."""
        self.tree.clear()
        self._items.clear()
        self._started.clear()
        self._final = ""
        self.summary.setText(text)
        self.summary.setStyleSheet("")
        self.detail.clear()
        self.copy_btn.setEnabled(False)

    def on_event(self, ev: JobEvent) -> None:
        """A step started or ended (``ev.step``); other events are not steps and are ignored."""
        if not ev.step:
            return
        item = self._items.get(ev.step)
        if item is None:
            item = self._add(ev.step, ev.item)
            self._started[ev.step] = ev.time
        seconds = ev.time - self._started.get(ev.step, ev.time)
        self._paint(item, ev.status, ev.message if ev.status != "running" else "", "", seconds)
        if ev.status == "running":
            self.tree.scrollToItem(item)
        self.copy_btn.setEnabled(True)

    def on_finished(self, result: JobResult | None) -> None:
        """The job ended: paint every step from ``JobOutcome.steps`` (the ones never reached as not run)."""
        if result is None:
            for key, item in self._items.items():
                if item.data(0, STATUS_ROLE) == "running":
                    self._paint(self._items[key], "skipped", "cancelled", "", 0)
            self._final = "Cancelled."
            self.summary.setText(self._final)
            self.summary.setStyleSheet(theme.color_css("muted"))
            return
        for step in result.outcome.steps:
            self._show_step(step)
        ok = result.state == "succeeded"
        self._final = ("✔ " if ok else "✖ ") + self._mask(result.outcome.message)
        self.summary.setText(self._final)
        self.summary.setStyleSheet(theme.color_css("ok" if ok else "failed", bold=True))
        failed = next((self._items[s.key] for s in result.outcome.steps
                       if s.status == "failed" and s.key in self._items), None)
        if failed is not None:
            self.tree.setCurrentItem(failed)
            self._show_detail(failed)
        self.copy_btn.setEnabled(bool(self._items) or bool(self._final))

    def _show_step(self, step: StepResult) -> None:
        item = self._items.get(step.key) or self._add(step.key, step.title)
        detail = step.detail if step.status != "skipped" else (step.detail or "not run")
        self._paint(item, step.status, detail, step.hint, step.seconds)

    def _add(self, key: str, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(["", title, "", ""])
        for column in (0, 1, 3):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.tree.addTopLevelItem(item)
        self._items[key] = item
        return item

    def _paint(self, item: QTreeWidgetItem, status: str, detail: str, hint: str, seconds: float) -> None:
        detail, hint = self._mask(detail), self._mask(hint)
        mark = icon(status)
        item.setIcon(0, mark)
        item.setText(0, "" if not mark.isNull() else GLYPHS.get(status, "?"))
        item.setForeground(0, theme.tone(status))
        item.setToolTip(0, WORDS.get(status, status))
        item.setData(0, STATUS_ROLE, status)
        item.setData(0, DETAIL_ROLE, detail)
        item.setData(0, HINT_ROLE, hint)
        item.setData(0, SECONDS_ROLE, seconds if status not in ("running", "pending", "skipped") else None)
        item.setText(2, duration(seconds) if status not in ("running", "pending", "skipped") else "")
        shown = "running…" if status == "running" else detail + (f" — {hint}" if hint else "")
        item.setText(3, shown)
        font = QFont(item.font(3))
        font.setBold(status == "failed")
        item.setFont(3, font)
        item.setForeground(3, theme.tone("failed") if status == "failed" else
                           theme.tone("muted") if status == "skipped" else theme.tone("text"))
        if item is self.tree.currentItem():
            self._show_detail(item)

    # --- reading ----------------------------------------------------------------------------
    def rows(self) -> list[QTreeWidgetItem]:
        """The step rows, in list order."""
        return [item for i in range(self.tree.topLevelItemCount()) if (item := self.tree.topLevelItem(i))]

    def statuses(self) -> dict[str, str]:
        """Step title → status (ok, warning, failed, skipped, running, pending), in list order."""
        return {item.text(1): str(item.data(0, STATUS_ROLE)) for item in self.rows()}

    def _step_text(self, item: QTreeWidgetItem) -> str:
        status = str(item.data(0, STATUS_ROLE))
        seconds = item.data(0, SECONDS_ROLE)
        line = f"[{WORDS.get(status, status)}] {item.text(1)}"
        if isinstance(seconds, float | int):
            line += f" ({duration(float(seconds))})"
        detail, hint = str(item.data(0, DETAIL_ROLE) or ""), str(item.data(0, HINT_ROLE) or "")
        if status == "running":
            detail = "running…"
        if detail:
            line += f": {detail}"
        if hint:
            line += f"\n    Fix: {hint}"
        return line

    def diagnostic(self) -> str:
        """The run as plain text: the title, every step with status, time, result and hint, the summary."""
        lines = [self.title.text()]
        lines += [self._step_text(item) for item in self.rows()]
        if self._final:
            lines.append(self._final)
        return self._mask("\n".join(lines)) + "\n"

    def copy_diagnostic(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostic())

    def _copy_step(self, item: QTreeWidgetItem) -> None:
        QGuiApplication.clipboard().setText(self._mask(self._step_text(item)) + "\n")

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        item = self.tree.itemAt(pos)
        if item is not None:
            menu.addAction(icon("copy"), "Copy this step", lambda: self._copy_step(item))
        menu.addAction(icon("copy"), "Copy diagnostic", self.copy_diagnostic)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _show_detail(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        """The selected step's full result and hint in the pane under the list."""
        if item is None:
            self.detail.setPlainText("")
            return
        self.detail.setPlainText(self._step_text(item))

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "••••••••")
        return text
