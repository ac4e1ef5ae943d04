"""Render the main screens offscreen against the sandbox and save PNGs (for the README and review).

Usage: QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [OUT_DIR]
Secrets never appear: secret fields show only a "stored in the keyring" placeholder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from almdesk.app import App
from almdesk.services import Services


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout_ms: int = 30000) -> None:  # type: ignore[no-untyped-def]
    waited = 0
    while not predicate() and waited < timeout_ms:
        settle(100)
        waited += 100


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as data:
        services = Services.open(data)
        app = App(services, demo=True)
        window = app.window
        window.resize(1360, 860)
        window.show()
        wait_for(lambda: window.connectors.count() > 0)
        settle(500)
        window.nav.setCurrentRow(0)
        window.connectors.select_row(0)
        editor = window.connectors.editor
        editor.test()
        wait_for(lambda: editor._test_handle is None)
        settle(300)
        window.grab().save(str(out / "main-window.png"))
        editor.grab().save(str(out / "connector-form.png"))
        window.nav.setCurrentRow(1)
        settle(300)
        window.grab().save(str(out / "connections.png"))
        window.about()  # the About box with the app icon
        settle(300)
        window.about_box.grab().save(str(out / "about.png"))
        window.about_box.close()
        app.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
