"""Colours for status and notices, taken from the application palette so light and dark both read.

A tone (``ok``, ``failed``, ``warning``, ``running``, ``muted``, ``link``) has a darker shade for light
palettes and a lighter one for dark palettes; ``muted`` and ``link`` are the palette's own
placeholder-text and link colours. Nothing else in ``ui/`` writes a colour literal.

:data:`FOCUS_CSS` is the one application style sheet rule set :func:`apply_theme` installs (whatever the
theme): a frame in the palette's highlight colour around the control that has the keyboard focus, so
focus shows on buttons, check boxes and lists too, in light and dark palettes alike.
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


# ``palette(highlight)`` is resolved against each widget's palette when drawn: it follows a theme change.
FOCUS_CSS = """
QPushButton:focus, QToolButton:focus {
    border: 2px solid palette(highlight); border-radius: 4px; background: palette(light); padding: 1px 2px;
}
QCheckBox, QRadioButton { border: 1px solid transparent; border-radius: 3px; padding: 1px; }
QCheckBox:focus, QRadioButton:focus { border: 1px solid palette(highlight); }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QAbstractSpinBox:focus, QAbstractItemView:focus {
    border: 2px solid palette(highlight);
}
QComboBox:focus { border: 2px solid palette(highlight); border-radius: 3px; padding: 1px 6px; }
QTabBar:focus { border-bottom: 2px solid palette(highlight); }
"""

# the style under the focus style sheet (which wraps it: ``app.style().name()`` no longer says it)
STYLE_PROPERTY = "almdesk_style"

THEMES = ("system", "light", "dark")
THEME_ENV = "ALMDESK_THEME"


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (what ``--theme dark`` sets)."""
    pal = QPalette()
    window, base, text, mid = QColor("#202124"), QColor("#17181a"), QColor("#e8eaed"), QColor("#2d2f33")
    roles = QPalette.ColorRole
    for role, color in ((roles.Window, window), (roles.WindowText, text), (roles.Base, base),
                        (roles.AlternateBase, mid), (roles.ToolTipBase, mid), (roles.ToolTipText, text),
                        (roles.Text, text), (roles.Button, mid), (roles.ButtonText, text),
                        (roles.BrightText, QColor("#ffffff")), (roles.Link, QColor("#8ab4f8")),
                        (roles.LinkVisited, QColor("#c58af9")), (roles.Highlight, QColor("#3b6fd1")),
                        (roles.HighlightedText, QColor("#ffffff")), (roles.PlaceholderText, QColor("#9aa0a6")),
                        (roles.Light, QColor("#3c4043")), (roles.Midlight, QColor("#34363a")),
                        (roles.Mid, QColor("#5f6368")), (roles.Dark, QColor("#111214")),
                        (roles.Shadow, QColor("#000000"))):
        pal.setColor(role, color)
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        pal.setColor(disabled, role, QColor("#7f8388"))
    return pal


def apply_theme(app: QGuiApplication, name: str) -> str:
    """Set the colour theme: ``system`` (default: the platform's palette, light or dark as the desktop says),
    ``light`` or ``dark`` (both with the Fusion style, so every platform draws them the same way), and
    the focus frame (:data:`FOCUS_CSS`) in every case. Returns the name applied (an unknown name is ``system``)."""
    from PySide6.QtWidgets import QApplication, QStyleFactory

    if isinstance(app, QApplication) and FOCUS_CSS not in app.styleSheet():
        app.setProperty(STYLE_PROPERTY, app.style().name())
        app.setStyleSheet(app.styleSheet() + FOCUS_CSS)
    if name not in ("light", "dark"):
        return "system"
    if isinstance(app, QApplication):
        style = QStyleFactory.create("Fusion")
        if style is not None:
            app.setStyle(style)
            app.setProperty(STYLE_PROPERTY, style.name())
        app.setPalette(dark_palette() if name == "dark" else style.standardPalette() if style else QPalette())
    else:
        app.setPalette(dark_palette() if name == "dark" else QPalette())
    return name
