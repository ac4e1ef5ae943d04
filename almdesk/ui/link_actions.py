"""Opening and copying links: every view that shows a link goes through these.

:func:`open_link` asks ``opener`` (``QDesktopServices.openUrl`` unless a test swaps it) to open a URL;
when it returns False (no browser could be started) a :class:`BrowserFailed` notice opens in the window,
non-modal, with the link selectable and a Copy link button — not only Qt's warning on stderr.
:func:`copy_link` puts a URL on the clipboard; :func:`link_menu` is the context menu (Open link, Copy
link) of a widget showing one link at a time (a table's row, a label).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.ui.icons import icon

UrlOpener = Callable[[QUrl], Any]


def copy_link(url: str) -> None:
    """Put ``url`` on the clipboard (nothing for an empty one)."""
    if url:
        QGuiApplication.clipboard().setText(url)


class BrowserFailed(QDialog):
    """"No browser could be opened": the link, selectable, with Copy link and Close (non-modal)."""

    def __init__(self, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("browser_failed")
        self.setWindowTitle("Could not open the link")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.url = url
        text = QLabel("No web browser could be started to open this link. Copy it and open it yourself:")
        text.setWordWrap(True)
        self.link = QLineEdit(url)
        self.link.setObjectName("browser_failed_url")
        self.link.setReadOnly(True)
        self.link.setCursorPosition(0)
        self.copy_btn = QPushButton(icon("copy"), "&Copy link")
        self.copy_btn.setObjectName("browser_failed_copy")
        self.copy_btn.clicked.connect(self.copy)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_btn)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(text)
        lay.addWidget(self.link)
        lay.addLayout(buttons)
        self.resize(560, 130)

    def copy(self) -> None:
        copy_link(self.url)
        self.copy_btn.setText("Copied")


def open_link(parent: QWidget | None, url: str, opener: UrlOpener) -> BrowserFailed | None:
    """Open ``url`` with ``opener``; when it fails, show (and return) the :class:`BrowserFailed` notice."""
    if not url:
        return None
    if opener(QUrl(url)) is not False:  # a test's recorder returns None: opened
        return None
    notice = BrowserFailed(url, parent.window() if parent is not None else None)
    notice.show()
    return notice


def link_menu(parent: QWidget, url: str, opener: UrlOpener, at: QPoint | None = None) -> QMenu | None:
    """The context menu of one link (Open link, Copy link), shown at ``at`` (global); None without a link."""
    if not url:
        return None
    menu = QMenu(parent)
    menu.setObjectName("link_menu")
    menu.addAction(icon("link"), "&Open link", lambda: open_link(parent, url, opener))
    menu.addAction(icon("copy"), "&Copy link", lambda: copy_link(url))
    if at is not None:
        menu.popup(at)
    return menu
