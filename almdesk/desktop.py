"""Desktop integration of the GUI: the shipped resources, the display check, single instance, the crash dialog.

- :func:`app_icon`: the shipped icon (:mod:`almdesk.shipped` finds the resources) for windows and the tray.
- :func:`display_problem`: on Linux, a one-line reason when there is no display to open a window on (so
  ``almdesk-gui`` says so instead of Qt aborting), naming the headless way.
- :class:`SingleInstance`: one GUI per data directory; a second launch asks the first (``QLocalServer``) to
  raise its window and exits 0.
- :class:`CrashReporter`: ``sys.excepthook`` of the GUI; writes the traceback to the log and shows a dialog
  that offers a support bundle.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMessageBox, QWidget

from almdesk.shipped import APP_ID, ICON_SIZES, icon_files, resources_dir

__all__ = ["APP_ID", "ICON_SIZES", "CrashReporter", "SingleInstance", "app_icon", "display_problem", "icon_files",
           "instance_key", "raise_window", "resources_dir"]

log = logging.getLogger(__name__)

SHOW = b"show\n"  # what a second launch sends; the first answers SHOWN once its window is raised
SHOWN = b"shown\n"


def app_icon() -> QIcon:
    """The app icon with every PNG size (no SVG plugin needed)."""
    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


def display_problem(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be opened (one line, with the headless way), or None when a display looks usable.

    Only Linux/BSD are checked (Windows and macOS always have one). An explicit ``QT_QPA_PLATFORM``
    (offscreen, vnc …) is the user's choice and trusted, as is a remote ``DISPLAY`` (``host:N``, SSH).
    """
    env = os.environ if environ is None else environ
    if (platform or sys.platform) in ("win32", "darwin") or env.get("QT_QPA_PLATFORM"):
        return None
    wayland = env.get("WAYLAND_DISPLAY", "")
    if wayland:
        socket = Path(wayland) if os.path.isabs(wayland) else Path(env.get("XDG_RUNTIME_DIR", "/nonexistent")) / wayland
        if socket.exists():
            return None
    x11 = env.get("DISPLAY", "")
    if x11:
        host, _, number = x11.rpartition(":")
        if host not in ("", "unix") or Path(f"/tmp/.X11-unix/X{number.split('.')[0]}").exists():
            return None
    why = f"DISPLAY={x11} has no X server" if x11 else \
        f"WAYLAND_DISPLAY={wayland} has no compositor" if wayland else "DISPLAY and WAYLAND_DISPLAY are unset"
    return (f"almdesk: no display to open the window on ({why}); run it headless instead — "
            "'almdesk --help' (e.g. 'almdesk sync ALIAS --junit out.xml', see docs/headless.md) — "
            "or set QT_QPA_PLATFORM=offscreen.")


def instance_key(data_root: Path) -> str:
    """The local server name of the GUI on ``data_root``: per user and data directory (one store, one GUI)."""
    digest = hashlib.sha256(str(data_root).encode()).hexdigest()[:16]
    return f"almdesk-{getpass.getuser()}-{digest}"


class SingleInstance(QObject):
    """The first GUI on a data directory listens on :func:`instance_key`; a later one asks it to show.

    Signals: activated() — another launch asked this one to show its window (answered once the slots ran).

    Binding the socket is the lock: ``listen`` fails while another instance holds the name. (No socket
    options: with them Qt binds elsewhere and renames over the name, replacing a running instance's socket.)
    """

    activated = Signal()

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)
        self._clients: set[QLocalSocket] = set()
        self.first_answered = False  # a later launch: whether the first one raised its window

    def claim(self, timeout_ms: int = 3000) -> bool:
        """True when this is the first instance (now listening); False when another one runs — it was
        asked to show its window (:attr:`first_answered` says whether it confirmed)."""
        if self.server.listen(self.key):
            return True
        if self._ask_to_show(timeout_ms):
            return False
        QLocalServer.removeServer(self.key)  # a socket left by a crashed instance
        if not self.server.listen(self.key):
            log.warning("single instance: cannot listen on %s: %s", self.key, self.server.errorString())
        return True

    def _ask_to_show(self, timeout_ms: int) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(SHOW)
        socket.waitForBytesWritten(timeout_ms)
        reply = b""
        while SHOWN not in reply and socket.waitForReadyRead(timeout_ms):
            reply += bytes(socket.readAll().data())
        self.first_answered = SHOWN in reply
        socket.disconnectFromServer()
        return True

    def _accept(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            self._clients.add(socket)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        if bytes(socket.readLine().data()) == SHOW:
            log.info("another launch asked to show the window")
            self.activated.emit()
            socket.write(SHOWN)
            socket.flush()

    def _drop(self, socket: QLocalSocket) -> None:
        self._clients.discard(socket)
        socket.deleteLater()

    def close(self) -> None:
        self.server.close()


def raise_window(window: QWidget) -> None:
    """Show ``window`` (hidden to the tray, minimised or behind others) in front."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashReporter:
    """``sys.excepthook`` for the GUI: an unhandled exception (a bug) is logged with its traceback and
    shown in a dialog that offers to save a support bundle. ``bundle`` writes one and returns its path
    (None before the services are open). One dialog at a time; KeyboardInterrupt goes to the old hook."""

    def __init__(self, parent: Callable[[], QWidget | None], bundle: Callable[[], Path | None]) -> None:
        self.parent = parent
        self.bundle = bundle
        self.dialog: QMessageBox | None = None
        self.bundle_button: object = None
        self.result: QMessageBox | None = None  # what saving the bundle gave
        self.previous = sys.excepthook

    def install(self) -> None:
        self.previous = sys.excepthook
        sys.excepthook = self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self.previous

    def __call__(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, exc, tb)
            return
        log.error("unhandled exception", exc_info=(kind, exc, tb))
        if self.dialog is not None and self.dialog.isVisible():
            return  # one dialog; the log has every traceback
        text = "".join(traceback.format_exception(kind, exc, tb))
        box = QMessageBox(QMessageBox.Icon.Critical, "almdesk hit a bug",
                          f"Something went wrong inside almdesk: {kind.__name__}: {exc}\n\nThe details are in "
                          "the log. A support bundle (no secrets) helps the developers find the cause.",
                          QMessageBox.StandardButton.Close, self.parent())
        box.setDetailedText(text)
        self.bundle_button = box.addButton("Save support bundle…", QMessageBox.ButtonRole.ActionRole)
        box.buttonClicked.connect(self._clicked)
        self.dialog = box
        box.open()

    def _clicked(self, button: object) -> None:
        """The dialog closes on any button; the bundle's outcome is told in a second, non-modal box."""
        if button is not self.bundle_button:
            return
        try:
            path = self.bundle()
            message = f"Support bundle written to {path}" if path else "The store is not open yet: no bundle."
        except Exception as exc:  # the bundle itself failed: say so, the log has it
            log.error("support bundle failed", exc_info=exc)
            message = f"The support bundle could not be written: {exc}"
        log.info(message)
        self.result = QMessageBox(QMessageBox.Icon.Information, "Support bundle", message,
                                  QMessageBox.StandardButton.Ok, self.parent())
        self.result.open()
