"""The Test Connection step list: each step with its state, time and detail, updated live."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult

ICONS = {"pending": "○", "running": "◌", "ok": "✔", "warning": "⚠", "failed": "✖", "skipped": "–"}
COLORS = {"ok": "#1b7f3b", "warning": "#9a6700", "failed": "#b3261e", "skipped": "#777777", "running": "#0b57d0"}


class StepList(QWidget):
    """Shows Test Connection progress from job events (``step:<key>``) and the final result."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Test Connection")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["", "Step", "Time", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setColumnWidth(0, 24)
        self.tree.setColumnWidth(1, 150)
        self.tree.setColumnWidth(2, 56)
        self.tree.header().setStretchLastSection(True)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.summary = QLabel("Press Test Connection to check every step from DNS to permissions.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        summary_area = QScrollArea()
        summary_area.setWidgetResizable(True)
        summary_area.setFrameShape(QScrollArea.Shape.NoFrame)
        summary_area.setWidget(self.summary)
        summary_area.setFixedHeight(96)
        self.action_bar = QHBoxLayout()  # buttons that act on the result (e.g. Trust this certificate)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.tree, 1)
        lay.addWidget(summary_area)
        lay.addLayout(self.action_bar)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._started: dict[str, float] = {}
        self._final = ""
        self.tree.currentItemChanged.connect(self._show_detail)

    def _show_detail(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        """Show the selected step's full result (details are often longer than the column)."""
        if item is not None and item.toolTip(3):
            self.summary.setText(f"{item.text(1)}: {item.toolTip(3)}")
        elif self._final:
            self.summary.setText(self._final)

    def reset(self, text: str = "Testing…") -> None:
        self.tree.clear()
        self._items.clear()
        self._final = ""
        self.summary.setText(text)
        self.summary.setStyleSheet("")

    def on_event(self, ev: JobEvent) -> None:
        if not ev.action.startswith("step:"):
            return
        key = ev.action[5:]
        item = self._items.get(key)
        if item is None:
            item = QTreeWidgetItem(["", ev.item, "", ""])
            self.tree.addTopLevelItem(item)
            self._items[key] = item
            self._started[key] = ev.time
        self._paint(item, ev.status, ev.message, ev.time - self._started.get(key, ev.time))

    def _paint(self, item: QTreeWidgetItem, status: str, detail: str, seconds: float) -> None:
        item.setText(0, ICONS.get(status, "?"))
        item.setForeground(0, QColor(COLORS.get(status, "#000000")))
        if status not in ("running", "pending", "skipped"):
            item.setText(2, f"{seconds * 1000:.0f} ms")
        item.setText(3, detail if status != "running" else "running…")
        item.setToolTip(3, detail)
        if status == "failed":
            font = QFont(item.font(3))
            font.setBold(True)
            item.setFont(3, font)
            item.setForeground(3, QColor(COLORS["failed"]))

    def on_finished(self, result: JobResult | None) -> None:
        if result is None:
            self.summary.setText("Cancelled.")
            return
        steps = result.outcome.data.get("steps") or []
        for step in steps:  # steps never reached are shown as skipped
            if step["key"] not in self._items and step["status"] == "skipped":
                item = QTreeWidgetItem(["", step["title"], "", "not run"])
                self.tree.addTopLevelItem(item)
                self._items[step["key"]] = item
                self._paint(item, "skipped", "not run", 0)
        ok = result.state == "succeeded"
        self._final = ("✔ " if ok else "✖ ") + result.outcome.message
        self.summary.setText(self._final)
        self.summary.setStyleSheet(f"color: {COLORS['ok' if ok else 'failed']}; font-weight: bold;")
