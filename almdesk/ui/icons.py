"""Icons from the one set under ``resources/icons/ui/`` (SVG, drawn in ``currentColor``), tinted for the palette.

:func:`icon` returns a null :class:`QIcon` for a name the set lacks, so a missing file never breaks a view.
Names in use: toolbar ``test sync dry-run gate defect cancel save delete revert refresh copy link add
import export trace``; navigation ``connectors connections projects jobs server links``; status ``ok failed
warning running skipped pending cancelled info``.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from almdesk.shipped import resources_dir
from almdesk.ui import theme

SIZES = (16, 24, 32, 48)


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
