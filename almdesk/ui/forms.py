"""Forms built from a system's field schema, with inline, field-level error messages.

A :class:`FieldForm` shows one editor per :class:`~almdesk.base.fields.Field` (line edit, masked
secret, spin box, combo, checkable list, check box, a table for a field of pairs), a help tooltip, and
a message under any field the last validation rejected. Choices show their labels and store their
values. Given :class:`~almdesk.ui.field_editors.Pickers`, a field the system can list from the server
gets a filterable combo with a "↻" button (:class:`~almdesk.ui.field_editors.ServerPicker`).

Keyboard: every field label has a mnemonic (Alt+letter focuses its field; letters already taken by the
page's buttons are passed as ``taken``); :meth:`FieldForm.focus_widgets` lists its Tab stops top to bottom
(:mod:`almdesk.ui.keyboard`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import Field, FieldErrors, FieldKind
from almdesk.errors import ConfigError
from almdesk.ui import theme
from almdesk.ui.field_editors import PairTableEdit, Pickers, ServerPicker
from almdesk.ui.keyboard import focusables, with_mnemonic


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fields, not to the page around them
    area.setWidget(widget)
    return area


def confirm_discard(parent: QWidget, noun: str, dirty: bool, save: Callable[[], bool]) -> bool:
    """Ask Save / Discard / Cancel for unsaved edits; True when it is fine to move on."""
    if not dirty:
        return True
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "Unsaved changes", f"The {noun} has unsaved changes. Save them?",
                                  buttons.Save | buttons.Discard | buttons.Cancel)
    if answer == buttons.Save:
        return save()
    return answer == buttons.Discard


class SecretEdit(QWidget):
    """A masked line edit with a show/hide button. A stored secret shows as a placeholder only.

    Signals: changed().
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.setFocusProxy(self.edit)  # a label's mnemonic (its buddy) and an error focus the edit
        self.toggle = QToolButton()
        self.toggle.setText("Show")
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._toggle)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.toggle)
        self.edit.textEdited.connect(lambda _t: self.changed.emit())

    def _toggle(self, on: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        self.toggle.setText("Hide" if on else "Show")

    def set_stored(self, stored: bool) -> None:
        self.edit.clear()
        self.edit.setPlaceholderText("•••••••• stored in the keyring — type to replace" if stored else "")


class ChecklistEdit(QListWidget):
    """Multi-choice as a compact list of check boxes. Signals: changed()."""

    changed = Signal()

    def __init__(self, choices: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for value, label in choices:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setToolTip(value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.addItem(item)
        self.setMaximumHeight(22 * max(2, min(len(choices), 5)) + 6)
        self.itemChanged.connect(lambda _i: self.changed.emit())

    def values(self) -> list[str]:
        return [str(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]

    def set_values(self, values: Iterable[str]) -> None:
        chosen = set(values)
        self.blockSignals(True)
        for i in range(self.count()):
            item = self.item(i)
            checked = item.data(Qt.ItemDataRole.UserRole) in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.blockSignals(False)


class FieldForm(QWidget):
    """Editors for ``fields`` in a form layout, with inline errors; ``pickers`` adds server-backed
    pickers beside the fields its query can list.

    Signals: changed() — any value edited by the user.
    """

    changed = Signal()

    def __init__(self, fields: Sequence[Field], parent: QWidget | None = None, *,
                 pickers: Pickers | None = None, taken: Iterable[str] = ()) -> None:
        super().__init__(parent)
        self.fields = list(fields)
        self.taken = set(taken)  # mnemonic letters in use on the page (buttons, other labels)
        self.pickers = pickers
        self.listable = pickers.query.listable if pickers is not None else frozenset()
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout_.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for f in self.fields:
            self._add(f)

    def _add(self, f: Field) -> None:
        editor = self._editor(f)
        editor.setObjectName(f"field_{f.name}")
        editor.setToolTip(f.help)
        error = QLabel()
        error.setObjectName(f"error_{f.name}")
        error.setStyleSheet(theme.color_css("failed"))
        error.setWordWrap(True)
        error.hide()
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(editor)
        lay.addWidget(error)
        label = QLabel(with_mnemonic(f.label.replace("&", "&&"), self.taken) + (" *" if f.required else ""))
        label.setToolTip(f.help)
        label.setBuddy(editor)
        self.layout_.addRow(label, box)
        self.editors[f.name] = editor
        self.errors[f.name] = error

    def _editor(self, f: Field) -> QWidget:
        kind = f.kind
        if kind is FieldKind.SECRET:
            w = SecretEdit()
            w.changed.connect(self.changed)
            return w
        if kind is FieldKind.INT:
            spin = QSpinBox()
            spin.setRange(f.minimum if f.minimum is not None else -1_000_000,
                          f.maximum if f.maximum is not None else 1_000_000)
            spin.valueChanged.connect(lambda _v: self.changed.emit())
            return spin
        if kind is FieldKind.BOOL:
            box = QCheckBox()
            box.toggled.connect(lambda _v: self.changed.emit())
            return box
        if kind is FieldKind.CHOICE:
            combo = QComboBox()
            for value, label in f.choice_pairs():
                combo.addItem(label, value)
                combo.setItemData(combo.count() - 1, value, Qt.ItemDataRole.ToolTipRole)
            combo.currentIndexChanged.connect(lambda _v: self.changed.emit())
            return combo
        if kind is FieldKind.MULTI_CHOICE and f.choices:
            checklist = ChecklistEdit(f.choice_pairs())
            checklist.changed.connect(self.changed)
            return checklist
        if f.table is not None:
            table = PairTableEdit(f, f.table)
            table.changed.connect(self.changed)
            return table
        if self.pickers is not None and f.name in self.listable and (
                kind in (FieldKind.TEXT, FieldKind.URL) or (kind is FieldKind.MULTI_CHOICE and not f.choices)):
            picker = ServerPicker(f, self.pickers, functools.partial(self._report, f.name))
            picker.changed.connect(self.changed)
            return picker
        edit = QLineEdit()
        edit.setPlaceholderText(f.placeholder or ("https://…" if kind is FieldKind.URL else ""))
        edit.textEdited.connect(lambda _t: self.changed.emit())
        return edit

    # --- values -----------------------------------------------------------------------------
    def set_values(self, values: Mapping[str, Any], stored_secrets: Iterable[str] = ()) -> None:
        stored = set(stored_secrets)
        for f in self.fields:
            editor = self.editors[f.name]
            value = values.get(f.name, f.default)
            editor.blockSignals(True)
            if isinstance(editor, SecretEdit):
                editor.set_stored(f.name in stored)
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value) if value not in (None, "") else max(editor.minimum(), 0))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                idx = editor.findData(str(value)) if value is not None else 0
                editor.setCurrentIndex(max(idx, 0))
            elif isinstance(editor, ChecklistEdit):
                editor.set_values(value or [])
            elif isinstance(editor, PairTableEdit | ServerPicker):
                editor.set_text(f.to_text(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(f.to_text(value))
            editor.blockSignals(False)
        self.clear_errors()

    def values(self) -> dict[str, Any]:
        """Raw values (not secrets) to hand to validation.

        Raises :class:`FieldErrors` when a table holds a row that cannot be stored (it names the row).
        """
        out: dict[str, Any] = {}
        errors: dict[str, ConfigError] = {}
        for f in self.fields:
            editor = self.editors[f.name]
            if isinstance(editor, SecretEdit):
                continue
            if isinstance(editor, QSpinBox):
                out[f.name] = editor.value()
            elif isinstance(editor, QCheckBox):
                out[f.name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                out[f.name] = editor.currentData()
            elif isinstance(editor, ChecklistEdit):
                out[f.name] = editor.values()
            elif isinstance(editor, PairTableEdit):
                try:
                    out[f.name] = editor.text()
                except ConfigError as exc:
                    errors[f.name] = exc
            elif isinstance(editor, ServerPicker | QLineEdit):
                out[f.name] = editor.text()
        if errors:
            raise FieldErrors(errors)
        return out

    def secrets(self) -> dict[str, str]:
        """Secrets the user typed (empty ones mean: keep what the keyring has)."""
        return {name: ed.edit.text() for name, ed in self.editors.items()
                if isinstance(ed, SecretEdit) and ed.edit.text()}

    def set_value(self, name: str, value: Any) -> None:
        editor = self.editors.get(name)
        if isinstance(editor, QLineEdit) and editor.text() != str(value):
            editor.setText(str(value))
        elif isinstance(editor, ServerPicker) and editor.text() != str(value):
            editor.set_text(str(value))

    # --- errors -----------------------------------------------------------------------------
    def _report(self, name: str, error: ConfigError | None) -> None:
        """A picker's listing failed (or is starting again): its message under the field."""
        label = self.errors[name]
        if error is None:
            label.clear()
            label.hide()
            return
        label.setText(error.message + (f" {error.hint}" if error.hint else ""))
        label.show()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def show_error(self, error: ConfigError) -> bool:
        """Show a field's error under it; False when the error names no field of this form."""
        if isinstance(error, FieldErrors):
            shown = [self.show_error(e) for e in error.errors.values()]
            return all(shown)
        label = self.errors.get(error.field or "")
        if label is None:
            return False
        label.setText(error.message + (f" {error.hint}" if error.hint else ""))
        label.show()
        self.editors[error.field or ""].setFocus()
        return True

    def focus_widgets(self) -> list[QWidget]:
        """The form's Tab stops from top to bottom (each row's editor parts, extra rows included)."""
        out: list[QWidget] = []
        for row in range(self.layout_.rowCount()):
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole,
                         QFormLayout.ItemRole.SpanningRole):
                item = self.layout_.itemAt(row, role)
                widget = item.widget() if item is not None else None
                if widget is not None and not isinstance(widget, QLabel):
                    out += focusables(widget)
        return out

    def first_error(self) -> QLabel | None:
        return next((lbl for lbl in self.errors.values() if lbl.isVisible() or lbl.text()), None)
