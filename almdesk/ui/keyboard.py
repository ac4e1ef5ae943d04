"""Keyboard helpers for the forms and dialogs: Tab stops in form order, and mnemonics.

:func:`focusables` lists the widgets Tab stops at inside a widget; :func:`tab_to_next` moves the focus
along an exact list of stops (a widget's ``focusNextPrevChild`` calls it); :func:`chain_focus` also sets
Qt's own chain to that order (what Qt uses outside the list). :func:`with_mnemonic` gives a label or
button text an ``&`` letter not yet taken; :func:`buddy_label` is a label whose mnemonic focuses its input.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A form label ``text`` (with its ``&`` letter) whose mnemonic focuses ``buddy``."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def focusables(widget: QWidget) -> list[QWidget]:
    """The widgets Tab stops at inside ``widget``, in order: ``widget`` itself when it takes Tab focus
    (a line edit, combo, table… its own children are its business), else its children's, depth first."""
    if widget.focusProxy() is None and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
        return [widget]
    out: list[QWidget] = []
    for child in widget.children():
        if isinstance(child, QWidget) and not child.isWindow():
            out += focusables(child)
    return out


def _proxied(widget: QWidget) -> list[QWidget]:
    """The line edits inside ``widget`` (an editable combo's, a spin box's): they move with it in Qt's Tab
    chain, or a Tab elsewhere would lead back into ``widget``."""
    return list(widget.findChildren(QLineEdit))


def tab_to_next(stops: Sequence[QWidget], forward: bool, *, wrap: bool) -> bool:
    """Tab (or Shift+Tab) from the focused widget to the next usable stop among ``stops`` (their focusable
    parts, in order; hidden and disabled ones skipped). False when the focus is not in ``stops`` or, without
    ``wrap``, when it would leave them: Qt's own chain goes on from there.

    Qt's chain alone is not enough: ``setTabOrder`` keeps remnants of widgets made before it (a combo's
    inner line edit, a box handing its focus on) that lead Tab back into the form; this order is exact."""
    leaves = [w for stop in stops for w in focusables(stop)]
    focus = QApplication.focusWidget()
    here = next((i for i, w in enumerate(leaves) if focus is not None and (w is focus or w.isAncestorOf(focus))),
                None)
    if here is None:
        return False
    step = 1 if forward else -1
    for k in range(1, len(leaves) + 1):
        j = here + step * k
        if not wrap and not 0 <= j < len(leaves):
            return False
        widget = leaves[j % len(leaves)]
        if widget.isVisible() and widget.isEnabled():
            widget.setFocus(Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason)
            return True
    return False


def chain_focus(widgets: Sequence[QWidget]) -> None:
    """Tab visits the focusable parts of ``widgets`` in the order given (hidden or disabled ones are skipped
    by Qt as usual)."""
    stops = [w for widget in widgets for stop in focusables(widget) for w in (stop, *_proxied(stop))]
    window = stops[0].window() if stops else None
    stops = [w for w in stops if w.window() is window]  # a part not placed yet (a tab added later) joins later
    for first, second in itertools.pairwise(stops):
        QWidget.setTabOrder(first, second)


def mnemonic_of(text: str) -> str:
    """The mnemonic letter of ``text`` ("&Save" → "s"), or ""."""
    plain = text.replace("&&", "")
    i = plain.find("&")
    return plain[i + 1].lower() if 0 <= i < len(plain) - 1 else ""


def with_mnemonic(text: str, taken: set[str]) -> str:
    """``text`` with an ``&`` before a letter not in ``taken`` (a word's first letter first), which is then
    added to ``taken``; ``text`` unchanged when it has one already or no letter is free."""
    if mnemonic_of(text):
        taken.add(mnemonic_of(text))
        return text
    starts = [i for i, ch in enumerate(text) if ch.isalnum() and (i == 0 or not text[i - 1].isalnum())]
    rest = [i for i, ch in enumerate(text) if ch.isalnum() and i not in starts]
    for i in (*starts, *rest):
        if text[i].lower() not in taken:
            taken.add(text[i].lower())
            return text[:i] + "&" + text[i:]
    return text
