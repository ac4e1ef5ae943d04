"""Connectors: the list and the editor (:mod:`almdesk.ui.connector_editor`).

The list re-reads the store on :meth:`ConnectorPage.reload` (after a save, a delete, an import, or the
demo re-pointing its connectors); the open editor then shows the stored settings again when they
changed underneath it and it has no edits of its own. The Delete key deletes the selected connector
(after the editor's checks and question).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.ui.connector_editor import ConnectorEditor, scrolled
from almdesk.ui.forms import confirm_discard
from almdesk.ui.runner import JobRunner

__all__ = ["ConnectorEditor", "ConnectorPage", "scrolled"]


class ConnectorPage(QWidget):
    """List of connectors + editor.

    Signals: changed() after a save or delete; message(str) — a confirmation for the status line.
    """

    changed = Signal()
    message = Signal(str)

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QTreeWidget()
        self.list.setObjectName("connector_list")
        self.list.setHeaderLabels(["Connector", "System"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 150)
        self.editor = ConnectorEditor(services, runner)
        self.editor.saved.connect(self._saved)
        self.editor.deleted.connect(self.reload)
        self.editor.deleted.connect(self.changed)
        self.editor.message.connect(self.message)
        self.list.currentItemChanged.connect(self._selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.editor.delete,
                  context=Qt.ShortcutContext.WidgetShortcut)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self.editor)
        split.setStretchFactor(1, 4)
        split.setSizes([200, 900])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._guard = False
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self._guard = True
        self.list.clear()
        for info in self.services.config.connectors():
            item = QTreeWidgetItem([info.name, self.services.registry.get(info.system).label])
            item.setToolTip(0, info.name)
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            self.list.addTopLevelItem(item)
            if info.id == select_id or (select_id is None and self.editor.info is not None
                                        and info.id == self.editor.info.id):
                self.list.setCurrentItem(item)
        self._guard = False
        self._follow_store()
        if (select_id is None and (first := self.list.topLevelItem(0)) is not None and self.editor.info is None
                and not self.editor.dirty):
            self.list.setCurrentItem(first)

    def _follow_store(self) -> None:
        """The editor's connector as stored now: shown again when it changed (and the form has no edits),
        else a note that it changed underneath the edits; an empty editor when it is gone."""
        shown = self.editor.info
        if shown is None:
            return
        try:
            stored = self.services.config.connector(shown.id)
        except ConfigError:  # deleted elsewhere
            self.editor.load(None)
            return
        if (stored.name, stored.params, stored.network) == (shown.name, shown.params, shown.network):
            self.editor.info = stored  # e.g. its connections changed: nothing to show again
            return
        if not self.editor.dirty:
            self.editor.load(stored)
            return
        self.editor.info = stored
        self.editor.banner.setText(f"Connector {stored.name!r} changed while you were editing it: Save keeps "
                                   "your edits, Esc shows the stored settings.")
        self.editor.banner.show()

    def count(self) -> int:
        return self.list.topLevelItemCount()

    def select_row(self, row: int) -> None:
        item = self.list.topLevelItem(row)
        if item is not None:
            self.list.setCurrentItem(item)

    def new(self, system: str | None = None) -> None:
        if not self.confirm_discard():
            return
        self.list.clearSelection()
        self.editor.load(None)
        if system:
            self.editor.system.setCurrentIndex(self.editor.system.findData(system))
        self.editor.name.setFocus()

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
        self.editor.load(self.services.config.connector(int(current.data(0, Qt.ItemDataRole.UserRole))))

    def confirm_discard(self) -> bool:
        """Save / Discard / Cancel for unsaved edits; Discard brings the stored settings back."""
        ok = confirm_discard(self, "connector", self.editor.dirty, self.editor.save)
        if ok and self.editor.dirty:  # discarded
            self.editor.revert()
        return ok

    def _saved(self, cid: int) -> None:
        self.reload(cid)
        self.changed.emit()
