"""Colours for status and notices, taken from the application palette so light and dark both read.

A tone (``ok``, ``failed``, ``warning``, ``running``, ``muted``, ``link``) has a darker shade for light
palettes and a lighter one for dark palettes; ``muted`` and ``link`` are the palette's own
placeholder-text and link colours. Nothing else in ``ui/`` writes a colour literal.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# tone -> (on a light palette, on a dark palette)
_TONES = {
    "ok": ("#1b7f3b", "#7bd88f"),
    "failed": ("#b3261e", "#ff8a80"),
    "warning": ("#8a5a00", "#f2c14e"),
    "running": ("#0b57d0", "#8ab4f8"),
}
STATUS_TONES = {"ok": "ok", "succeeded": "ok", "passed": "ok", "DONE": "ok", "create": "ok",
                "failed": "failed", "blocked": "failed", "delete": "failed",
                "warning": "warning", "waiting": "warning", "detached": "warning", "update": "warning",
                "could not run": "warning", "running": "running",
                "skipped": "muted", "cancelled": "muted", "pending": "muted", "NA": "muted", "read-only": "muted"}


def palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(pal: QPalette | None = None) -> bool:
    """Whether ``pal`` (default: the application's) draws light text on a dark window."""
    pal = pal or palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < pal.color(QPalette.ColorRole.WindowText).lightness()


def tone(name: str, pal: QPalette | None = None) -> QColor:
    """The colour of tone ``name`` (or of a status mapped by :data:`STATUS_TONES`); text colour if unknown."""
    pal = pal or palette()
    name = STATUS_TONES.get(name, name)
    if name == "muted":
        return pal.color(QPalette.ColorRole.PlaceholderText)
    if name == "link":
        return pal.color(QPalette.ColorRole.Link)
    if name in _TONES:
        return QColor(_TONES[name][1 if is_dark(pal) else 0])
    return pal.color(QPalette.ColorRole.Text)


def color_css(name: str, *, bold: bool = False) -> str:
    """A style sheet fragment colouring text with tone ``name``."""
    return f"color: {tone(name).name()};" + (" font-weight: bold;" if bold else "")


def notice_css(name: str) -> str:
    """A boxed notice (success, warning…) tinted by tone ``name`` over the palette's base colour."""
    pal = palette()
    fg, base = tone(name, pal), pal.color(QPalette.ColorRole.Base)
    mix = 0.18 if is_dark(pal) else 0.12
    bg = QColor(round(base.red() + (fg.red() - base.red()) * mix), round(base.green() + (fg.green() - base.green()) * mix),
                round(base.blue() + (fg.blue() - base.blue()) * mix))
    return (f"background: {bg.name()}; color: {pal.color(QPalette.ColorRole.Text).name()}; padding: 6px; "
            f"border: 1px solid {fg.name()}; border-radius: 4px;")
