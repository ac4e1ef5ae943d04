"""Start-up marks for ``bench/first_start.py``: when the window first painted and when it became usable.

Set ``ALMDESK_START_MARK=1`` (or ``quit``) in the GUI's environment and the app writes to stderr, with the
system-wide monotonic clock (``time.monotonic()``, comparable between processes on Linux)::

    almdesk-mark painted 12345.678901 cpu=0.251   # the main window's first paint (the shell)
    almdesk-mark welcome 12345.701234 cpu=0.270   # the welcome box of a first start painted (none otherwise)
    almdesk-mark usable 12345.987654 cpu=0.802    # the app built, its page filled and painted, the loop idle

(``cpu=`` is the process's CPU time so far, ``time.process_time()``: less noisy than the clock on a busy
machine.)

"Usable" is the first paint of the main window after :class:`almdesk.app.App` is built (the store open, the
page on screen filled); "welcome" the first paint of the widget named ``welcome`` (the box a first start
opens, whose buttons answer at once). Each mark is written from a zero-delay timer after that paint, i.e.
once the event loop is back and would handle input. With ``quit`` the app then quits (the bench's
children), after both marks when a welcome box is expected. Unset, nothing is installed or written.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "ALMDESK_START_MARK"


def wanted() -> str:
    """``""`` (no marks), ``"1"`` (marks) or ``"quit"`` (marks, then quit)."""
    value = os.environ.get(ENV, "").strip().lower()
    return value if value in ("1", "quit") else ""


def write(name: str) -> None:
    print(f"almdesk-mark {name} {time.monotonic():.6f} cpu={time.process_time():.6f}", file=sys.stderr, flush=True)


class StartMark(QObject):
    """Watches every paint (an event filter on the application) until the app is usable.

    ``main_window`` is the window shown first; ``target()`` returns the widget whose paint means usable (None
    until the app is built). Signals: none; ``done`` turns True after the last mark.
    """

    def __init__(self, main_window: QWidget, target: Callable[[], QWidget | None], *, quit_after: bool,
                 expect_welcome: bool = False) -> None:
        super().__init__()
        self.main_window = main_window
        self.target = target
        self.quit_after = quit_after
        self.expect_welcome = expect_welcome
        self.painted = False
        self.welcome = False
        self.usable = False
        self.done = False
        self._pending: set[str] = set()
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Paint or not isinstance(watched, QWidget) or self.done:
            return False
        top = watched.window()
        if not self.painted and top is self.main_window:
            self.painted = True
            write("painted")
        if not self.welcome and top.objectName() == "welcome" and "welcome" not in self._pending:
            self._pending.add("welcome")
            QTimer.singleShot(0, lambda: self._mark("welcome"))
        target = self.target()
        if not self.usable and target is not None and top is target and "usable" not in self._pending:
            self._pending.add("usable")
            QTimer.singleShot(0, lambda: self._mark("usable"))
        return False

    def _mark(self, name: str) -> None:
        setattr(self, name, True)
        write(name)
        if not self.usable or (self.expect_welcome and not self.welcome):
            return
        self.done = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            if self.quit_after:
                QTimer.singleShot(0, lambda: QApplication.exit(0))
