"""Keyboard and focus in the forms and dialogs (issue 18): Tab follows each form from its first field
(walked with real key presses, the order of the widgets that get focus asserted), Description leaves on
Tab and Ctrl+Enter creates, every label and button has a mnemonic (Alt+letter reaches the label's field),
and the focus frame shows in the palette's highlight colour in light and dark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QPushButton, QStyleFactory, QWidget
from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.ui import theme
from almdesk.ui.connection_editor import ConnectionEditor
from almdesk.ui.connector_editor import ConnectorEditor
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.keyboard import mnemonic_of, with_mnemonic
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv


def name_of(widget: QWidget | None) -> str:
    """The object name of ``widget`` or of its nearest named parent (Qt's own names skipped)."""
    while widget is not None:
        if widget.objectName() and not widget.objectName().startswith("qt_"):
            return widget.objectName()
        if widget.objectName() == "qt_tabwidget_tabbar":
            return "tab_bar"
        widget = widget.parentWidget()
    return "?"


def show(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitActive(widget)


def walk(qtbot: QtBot, start: QWidget, presses: int) -> list[str]:
    """Focus ``start``, press Tab ``presses`` times; the names of the widgets that had the focus."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    seen = [name_of(QApplication.focusWidget())]
    for _ in range(presses):
        focused = QApplication.focusWidget()
        assert focused is not None, f"the focus went nowhere after {seen}"
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
        seen.append(name_of(QApplication.focusWidget()))
    return seen


def test_connector_editor_tab_follows_the_form(qtbot: QtBot, services: Services, runner: JobRunner,
                                               octane: OctaneEnv) -> None:
    editor = ConnectorEditor(services, runner)
    editor.resize(1000, 650)
    show(qtbot, editor)
    editor.load(services.config.connector(octane.connector_id))
    order = walk(qtbot, editor.name, 17)
    assert order == ["connector_name", "field_location", "field_client_id",
                     "field_client_secret", "field_client_secret",  # the secret, then its Show button
                     "field_user", "field_shared_space", "combo_workspace", "list_workspace", "pick_workspace",
                     "test", "duplicate", "delete", "save", "step_tree", "step_detail", "tab_bar", "connector_name"]
    editor.load(None)  # a new connector: the system can be chosen, right after the name
    assert walk(qtbot, editor.name, 2)[1:] == ["connector_system", order[1]]
    editor.tabs.setCurrentIndex(1)  # the Network tab: its fields, then the same buttons
    network = walk(qtbot, editor.name, 40)
    assert network[1] == "connector_system" and network[2].startswith("field_")
    assert network.index("test") > max(i for i, n in enumerate(network[:20]) if n.startswith("field_"))


def test_connection_editor_tab_follows_the_form(qtbot: QtBot, services: Services, runner: JobRunner,
                                                octane: OctaneEnv) -> None:
    editor = ConnectionEditor(services, runner)
    editor.resize(1000, 650)
    show(qtbot, editor)
    editor.load(services.config.connection(octane.connection_id))
    assert walk(qtbot, editor.alias, 9) == ["connection_alias", "connection_connector", "connection_project",
                                            "connection_frequency", "connection_debug", "test", "delete", "save",
                                            "tab_bar", "connection_alias"]
    editor.tabs.setCurrentIndex(1)  # the system's Target fields, top to bottom, then the buttons
    form = editor.forms["Target"]
    stops = [name_of(w) for w in form.focus_widgets()]
    order = walk(qtbot, form.focus_widgets()[0], len(stops) + 3)
    assert order == [*stops, "test", "delete", "save", "tab_bar"]


def test_defect_dialog_tab_leaves_description_and_ctrl_enter_creates(
        qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> None:
    dialog = DefectDialog(services, runner, connection_id=octane.connection_id)
    show(qtbot, dialog)
    assert walk(qtbot, dialog.target.combo, 7) == ["defect_target", "defect_name", "defect_description",
                                                   "defect_release", "defect_severity", "defect_phase",
                                                   "create_defect", "defect_close"]
    dialog.name.setText("Checkout button does nothing")
    dialog.description.setFocus()
    qtbot.waitUntil(dialog.description.hasFocus)
    qtbot.keyClicks(dialog.description, "Steps")
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)  # Enter is a new line, not Create
    qtbot.keyClicks(dialog.description, "1. Click it")
    assert dialog.description.toPlainText() == "Steps\n1. Click it" and dialog.handle is None
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.keyClick(dialog.description, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.item is not None)
    assert dialog.item is not None and dialog.item.key
    assert dialog.description.toPlainText() == "Steps\n1. Click it"  # Ctrl+Enter added no line
    qtbot.keyClick(dialog.close_btn, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.handle is None  # done: Ctrl+Enter does not create a second


def test_gate_dialog_tab_follows_the_form(qtbot: QtBot, services: Services, runner: JobRunner,
                                          octane: OctaneEnv) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    show(qtbot, dialog)
    assert walk(qtbot, dialog.target.combo, 10) == [
        "gate_target", "combo_release", "list_release", "gate_phases", "gate_severities", "gate_labels",
        "gate_operator", "gate_threshold", "run_gate", "gate_close", "gate_target"]  # Cancel is off: skipped
    qtbot.keyClick(dialog.target.combo, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert name_of(QApplication.focusWidget()) == "gate_close"  # Shift+Tab goes back round
    qtbot.keyClick(dialog.close_btn, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert name_of(QApplication.focusWidget()) == "run_gate"


def _mnemonics(root: QWidget) -> list[tuple[str, str]]:
    """(letter, text) of the visible labels with a buddy and of the visible buttons under ``root``."""
    out = []
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if (isinstance(w, QLabel) and w.buddy() is not None) or isinstance(w, QPushButton):
            out.append((mnemonic_of(w.text()), w.text()))
    return out


@pytest.mark.parametrize("kind", ["connector", "connection", "defect", "gate"])
def test_every_label_and_button_has_a_mnemonic(qtbot: QtBot, services: Services, runner: JobRunner,
                                               octane: OctaneEnv, kind: str) -> None:
    root: QWidget
    if kind == "connector":
        root = ConnectorEditor(services, runner)
        root.load(services.config.connector(octane.connector_id))
    elif kind == "connection":
        root = ConnectionEditor(services, runner)
        root.load(services.config.connection(octane.connection_id))
    elif kind == "defect":
        root = DefectDialog(services, runner, connector_id=octane.connector_id)
    else:
        root = GateDialog(services, runner, connector_id=octane.connector_id)
    show(qtbot, root)
    found = _mnemonics(root)
    assert len(found) >= 6
    assert all(letter for letter, _text in found), [t for letter, t in found if not letter]
    letters = [letter for letter, _text in found]
    assert len(set(letters)) == len(letters), sorted(found)  # no two share a letter
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if label.isVisible() and buddy is not None:  # Alt+letter reaches an input, not a box around it
            assert buddy.focusPolicy() & Qt.FocusPolicy.TabFocus or buddy.focusProxy() is not None, label.text()


def test_alt_letter_focuses_the_labelled_field(qtbot: QtBot, services: Services, runner: JobRunner,
                                               octane: OctaneEnv) -> None:
    dialog = GateDialog(services, runner, connection_id=octane.connection_id)
    show(qtbot, dialog)
    label = dialog.form.labelForField(dialog.labels.parentWidget())
    assert isinstance(label, QLabel)
    letter = mnemonic_of(label.text())
    assert letter, label.text()
    dialog.run_btn.setFocus()
    qtbot.waitUntil(dialog.run_btn.hasFocus)
    qtbot.keyClick(dialog.run_btn, getattr(Qt.Key, f"Key_{letter.upper()}"), Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dialog.labels.hasFocus)


def test_with_mnemonic_avoids_letters_taken() -> None:
    taken = {"s", "t"}
    assert with_mnemonic("Server URL", taken) == "Server &URL" and "u" in taken
    assert with_mnemonic("&Save", set()) == "&Save" and mnemonic_of("Fish && &Chips") == "c"
    assert with_mnemonic("sst", {"s", "t"}) == "sst"  # nothing free: left as it is


@pytest.fixture
def restore_style(qapp: QApplication) -> Iterator[QApplication]:
    style, palette, sheet = qapp.style().name(), QPalette(qapp.palette()), qapp.styleSheet()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setStyle(QStyleFactory.create(style))
    qapp.setPalette(palette)


def _has(widget: QWidget, color: QColor) -> int:
    image = widget.grab().toImage()
    return sum(image.pixelColor(x, y).rgb() == color.rgb() for x in range(image.width())
               for y in range(image.height()))


@pytest.mark.parametrize("name", ["light", "dark"])
def test_focus_frame_shows_in_the_highlight_colour(qtbot: QtBot, restore_style: QApplication, name: str) -> None:
    theme.apply_theme(restore_style, name)
    assert theme.FOCUS_CSS in restore_style.styleSheet()
    theme.apply_theme(restore_style, name)
    assert restore_style.styleSheet().count(theme.FOCUS_CSS) == 1  # applied again: not doubled
    host = QWidget()
    first, second, box = QPushButton("&First", host), QPushButton("&Second", host), QCheckBox("", host)
    second.move(0, 40)
    box.move(0, 80)
    show(qtbot, host)
    highlight = restore_style.palette().color(QPalette.ColorRole.Highlight)
    for widget in (second, box):
        first.setFocus()
        qtbot.waitUntil(first.hasFocus)
        before = _has(widget, highlight)
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus)
        after = _has(widget, highlight)
        assert after > before + 20, (name, type(widget).__name__, before, after)
