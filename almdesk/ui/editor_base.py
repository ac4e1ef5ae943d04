"""What the connector and connection editors share: the dirty flag, Ctrl+S / Esc, revert, the Tab walk.

A subclass builds its widgets, then calls :meth:`SettingsEditor.install_keys`; it provides ``load(info)``
(``None``: an empty form), ``save()``, ``stored()`` (the stored settings of what it shows, ``None`` for a
new one) and ``tab_stops()`` (the widgets Tab visits, in order).

Signals: saved(int id), deleted(), dirty_changed(bool), message(str) — a confirmation for the status line
(e.g. "Saved connector X.").
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from almdesk.errors import ConfigError
from almdesk.ui.keyboard import tab_to_next


class SettingsEditor(QWidget):
    """The common part of an editor of stored settings (see the module docstring)."""

    saved = Signal(int)
    deleted = Signal()
    dirty_changed = Signal(bool)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dirty = False

    def install_keys(self) -> None:
        """Ctrl+S saves and Esc reverts, anywhere in the editor."""
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence.StandardKey.Save, self, self.save, context=context)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.revert, context=context)

    # --- provided by the editor ---------------------------------------------------------------
    def load(self, info: Any) -> None:
        raise NotImplementedError

    def save(self) -> bool:
        raise NotImplementedError

    def stored(self) -> Any:
        raise NotImplementedError

    def tab_stops(self) -> list[QWidget]:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------
    def revert(self) -> None:
        """Esc: back to the stored settings (a new one: an empty form), when there are edits."""
        if not self.dirty:
            return
        try:
            self.load(self.stored())
        except ConfigError:  # deleted meanwhile
            self.load(None)
        self.message.emit("Reverted to the stored settings.")

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def focusNextPrevChild(self, next: bool) -> bool:
        return tab_to_next(self.tab_stops(), next, wrap=self.isWindow()) or super().focusNextPrevChild(next)
