"""Icons from the one set under ``resources/icons/ui/`` (SVG, drawn in ``currentColor``), tinted for the palette.

:func:`icon` returns a null :class:`QIcon` for a name the set lacks, so a missing file never breaks a view.
Names in use: toolbar ``test sync dry-run gate defect cancel save delete revert refresh copy link add
import export trace bundle quit``; navigation ``connectors connections projects jobs server links``; status
``ok failed warning running skipped pending cancelled info`` (``resources/icons/ui/README.md`` maps each to
its upstream Lucide icon).

:class:`StatusLabel` is a line of status text led by a status icon (instead of ✔/⚠/✖ glyphs in the text),
so the tone is in the icon and the text keeps the palette's text colour in light and dark.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from almdesk.shipped import resources_dir
from almdesk.ui import theme

SIZES = (16, 24, 32, 48)
NAMES = ("test", "sync", "dry-run", "gate", "defect", "cancel", "save", "delete", "revert", "refresh", "copy", "link",
         "add", "import", "export", "trace", "bundle", "quit",
         "connectors", "connections", "projects", "jobs", "server", "links",
         "ok", "failed", "warning", "running", "skipped", "pending", "cancelled", "info")  # the set, as listed above


def icon(name: str) -> QIcon:
    """The icon ``name``, in the palette's text colour (status icons in their tone)."""
    pal = theme.palette()
    color = (theme.tone(name, pal) if name in theme.STATUS_TONES
             else pal.color(QPalette.ColorRole.WindowText)).name()
    return _icon(name, color)


@cache
def _icon(name: str, color: str) -> QIcon:
    path = resources_dir() / "icons" / "ui" / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    svg = QByteArray(path.read_text(encoding="utf-8").replace("currentColor", color).encode())
    renderer = QSvgRenderer(svg)
    if not renderer.isValid():
        return QIcon()
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pixmap)
    return result


class StatusLabel(QWidget):
    """A status icon (``ok``, ``failed``, ``warning``, ``running``, ``info``…) and a word-wrapped, selectable text.

    ``text()`` is the text alone and ``status`` the icon's name (None for none). No signals."""

    ICON_PX = 16

    def __init__(self, name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self.status: str | None = None
        self.icon_label = QLabel()
        self.icon_label.setFixedSize(self.ICON_PX, self.ICON_PX)
        self.icon_label.hide()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.label, 1)

    def set_status(self, status: str | None, text: str) -> None:
        """Show ``text`` led by the icon ``status`` (None or "": no icon)."""
        self.status = status or None
        self.label.setText(text)
        ico = icon(status) if status else QIcon()
        if ico.isNull():
            self.icon_label.clear()
            self.icon_label.hide()
        else:
            self.icon_label.setPixmap(ico.pixmap(self.ICON_PX, self.ICON_PX))
            self.icon_label.show()

    def setText(self, text: str) -> None:  # QLabel's name, so callers can treat it as one
        self.set_status(None, text)

    def text(self) -> str:
        return self.label.text()

    def clear(self) -> None:
        self.set_status(None, "")
