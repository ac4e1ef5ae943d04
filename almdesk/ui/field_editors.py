"""Editors the generic form uses beyond plain widgets: a two-column table for a field of pairs (the
priority map), and a server-backed picker for a field the system can list.

:class:`PairTableEdit` reads and writes the field's stored text (a JSON object) through its
:class:`~almdesk.base.fields.PairTable`; an unedited table gives back exactly the text it was loaded
with, and a bad row is a ConfigError naming the row. :class:`ServerPicker` is an editable, filterable
combo with a "↻" button: the button runs the field's :class:`~almdesk.services.choices.ChoiceQuery`
job in the :class:`~almdesk.ui.runner.JobRunner` (never on the UI thread) and fills the combo; any
text is still accepted, and errors go to the form's label under the field. For a list field (``MULTI_CHOICE``
without fixed choices, e.g. Jira's done statuses) picking a value adds it to the comma-separated text.
:meth:`ServerPicker.retarget` points a picker at another query (a dialog whose target changes): the
field may be listed under another name there (the gate's release is Jira's ``alm_project_version``),
and without a listing the "↻" button goes and the picker is a plain input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import Field, FieldKind, PairTable, split_list
from almdesk.errors import ConfigError
from almdesk.jobs.record import JobResult
from almdesk.services.choices import ChoiceList, ChoiceQuery
from almdesk.ui import theme
from almdesk.ui.icons import icon
from almdesk.ui.runner import JobRunner


@dataclass(frozen=True)
class Pickers:
    """What a form needs to offer server-backed pickers: the runner and the query of its settings."""

    runner: JobRunner
    query: ChoiceQuery


class PairTableEdit(QWidget):
    """A field of pairs as a table with Add row / Remove row. Signals: changed()."""

    changed = Signal()

    def __init__(self, fld: Field, spec: PairTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = fld
        self.spec = spec
        self.table = QTableWidget(0, 2)
        self.table.setObjectName(f"table_{fld.name}")
        self.table.setHorizontalHeaderLabels([spec.key_label, spec.value_label])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the next field
        self.table.setFixedHeight(150)
        self.add_btn = QPushButton("Add row")
        self.add_btn.setObjectName(f"add_row_{fld.name}")
        self.add_btn.setIcon(icon("add"))
        self.remove_btn = QPushButton("Remove row")
        self.remove_btn.setObjectName(f"remove_row_{fld.name}")
        self.remove_btn.setIcon(icon("delete"))
        self.add_btn.clicked.connect(self._add_clicked)
        self.remove_btn.clicked.connect(self.remove_current)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(theme.color_css("warning"))
        self.note.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        lay.addWidget(self.note)
        self._loaded = ""
        self._loaded_rows: list[tuple[str, str]] = []
        self.table.itemChanged.connect(lambda _i: self.changed.emit())
        self.setFocusProxy(self.table)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # no stretching in a tall page

    def set_text(self, text: str) -> None:
        """Show the stored value; text that is not a JSON object is kept as it is until the table is edited."""
        rows = self.spec.rows(text)
        self._loaded = text
        if rows is None:
            self.note.setText(f"The stored value is not a table: {text!r}. It is kept until you edit the rows.")
            self.note.show()
            rows = []
        else:
            self.note.hide()
        self._loaded_rows = rows
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for key, value in rows:
            self._append(key, value)
        self.table.blockSignals(False)

    def _append(self, key: str = "", value: str = "") -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def add_row(self, key: str = "", value: str = "") -> int:
        row = self._append(key, value)
        self.changed.emit()
        return row

    def _add_clicked(self) -> None:
        row = self.add_row()
        self.table.setCurrentCell(row, 0)
        cell = self.table.item(row, 0)
        if cell is not None:
            self.table.editItem(cell)

    def remove_current(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            row = self.table.rowCount() - 1
        if row >= 0:
            self.table.removeRow(row)
            self.changed.emit()

    def rows(self) -> list[tuple[str, str]]:
        out = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, col) for col in (0, 1)]
            out.append((cells[0].text() if cells[0] else "", cells[1].text() if cells[1] else ""))
        return out

    def text(self) -> str:
        """The stored value: the loaded text while the rows are unchanged; ConfigError naming a bad row."""
        rows = self.rows()
        filled = [(k.strip(), v.strip()) for k, v in rows if k.strip() or v.strip()]
        if filled == [(k.strip(), v.strip()) for k, v in self._loaded_rows]:
            return self._loaded
        return self.spec.text(rows, self.field)


class ServerPicker(QWidget):
    """An editable, filterable combo listing a field's values from the server. Signals: changed()."""

    changed = Signal()

    def __init__(self, fld: Field, pickers: Pickers, report: Callable[[ConfigError | None], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = fld
        self.pickers = pickers
        self.report = report
        self.multi = fld.kind is FieldKind.MULTI_CHOICE
        self.list_as = fld.name  # the field name the query lists        self._typed = ""  # the text before a pick (a list field adds the pick to it)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMaxVisibleItems(15)
        self.combo.setObjectName(f"combo_{fld.name}")
        line = self.combo.lineEdit()
        assert line is not None  # an editable combo has one
        line.setPlaceholderText(fld.placeholder or "type, or list from the server")
        completer = QCompleter(self.combo.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.setCompleter(completer)
        self.button = QToolButton()
        self.button.setObjectName(f"list_{fld.name}")
        self.button.setText("↻")  # shown only when the icon set lacks the icon
        self.button.setIcon(icon("refresh"))
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if not self.button.icon().isNull()
                                       else Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.button.setToolTip(f"List {fld.label} from the server")
        self.button.setAccessibleName(f"List {fld.label} from the server")
        self.button.clicked.connect(self.list_from_server)
        self.status = QLabel()
        self.status.setObjectName(f"status_{fld.name}")
        self.status.setStyleSheet(theme.color_css("muted"))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.button)
        lay.addWidget(self.status)
        self.setFocusProxy(self.combo)
        line.textEdited.connect(self._edited)
        self.combo.activated.connect(self._activated)
        self.handle: int | None = None
        pickers.runner.finished.connect(self._finished)

    def retarget(self, pickers: Pickers, list_as: str | None) -> None:
        """List from ``pickers`` under the name ``list_as`` from now on (None: it cannot be listed there);
        values listed from the old query are dropped, the text stays."""
        text = self.text()
        self.handle = None  # a listing still running answers for the old target: ignored
        self.button.setEnabled(True)
        self.pickers = pickers
        self.list_as = list_as or self.field.name
        self.button.setVisible(list_as is not None and list_as in pickers.query.listable)
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.setEditText(text)
        self.combo.blockSignals(False)
        self.status.setText("")
        self.report(None)

    # --- value ------------------------------------------------------------------------------
    def setText(self, text: str) -> None:  # a QLineEdit's name, for code that fills inputs alike
        self.set_text(text)

    def _edited(self, text: str) -> None:
        self._typed = text
        self.changed.emit()

    def text(self) -> str:
        """The value: a listed label stands for its value; anything else typed is taken as it is."""
        shown = self.combo.currentText().strip()
        if self.multi:
            return shown
        idx = self.combo.findText(shown, Qt.MatchFlag.MatchExactly)
        return str(self.combo.itemData(idx)) if idx >= 0 else shown

    def set_text(self, value: str) -> None:
        self._typed = value
        self.combo.blockSignals(True)
        self.combo.setEditText(value)
        self.combo.blockSignals(False)

    def _activated(self, index: int) -> None:
        value = self.combo.itemData(index)
        if value is not None and self.multi:
            items = split_list(self._typed)
            if str(value) not in items:
                items.append(str(value))
            self._typed = ", ".join(items)
            self.combo.setEditText(self._typed)
        elif value is not None:
            self._typed = str(value)
            self.combo.setEditText(self._typed)
        self.changed.emit()

    # --- listing ----------------------------------------------------------------------------
    def list_from_server(self) -> None:
        """Run the field's query in the worker; the combo fills when it ends."""
        if self.handle is not None:
            return
        self.report(None)
        try:
            spec = self.pickers.query.spec(self.list_as)
        except ConfigError as exc:
            self.report(exc)
            return
        self.button.setEnabled(False)
        self.status.setText("listing…")
        self.handle = self.pickers.runner.submit(spec)

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self.handle:
            return
        self.handle = None
        self.button.setEnabled(True)
        if result is None:
            self.status.setText("cancelled")
            return
        payload = result.outcome.payload
        if result.state != "succeeded" or not isinstance(payload, ChoiceList):
            why = result.outcome.why()
            self.status.setText("")
            self.report(ConfigError(why.message, why.hint, field=why.field or self.field.name))
            return
        self.fill(payload.choices)

    def fill(self, choices: list[tuple[str, str]]) -> None:
        """Offer ``choices`` (value, label), keeping the text typed so far."""
        current = self.combo.currentText() if self.multi else self.text()
        self.combo.blockSignals(True)
        self.combo.clear()
        for value, label in choices:
            self.combo.addItem(label, value)
            self.combo.setItemData(self.combo.count() - 1, value, Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(-1)
        self.combo.setEditText(current)
        self.combo.blockSignals(False)
        self.status.setText(f"{len(choices)} listed" if choices else "none listed")
        self.combo.setFocus()

    def values(self) -> list[str]:
        return [str(self.combo.itemData(i)) for i in range(self.combo.count())]
