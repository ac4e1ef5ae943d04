"""Start-up: the main window's shell paints before the store is imported; the pages follow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from almdesk.app import App, Startup


def test_app_module_imports_no_store_keyring_or_http() -> None:
    code = ("import sys; import almdesk.app; "
            "print(sorted(m for m in ('sqlalchemy', 'alembic', 'keyring', 'requests', 'almdesk.services', "
            "'almdesk.demo', 'werkzeug') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert out == "[]"


def test_shell_first_then_pages(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered: list[bool] = []
    monkeypatch.setattr(App, "offer_demo", lambda self: offered.append(True))  # its modal box would block
    startup = Startup(str(tmp_path / "data"))
    window = startup.window
    qtbot.addWidget(window)
    assert not window.attached and not window.act_new.isEnabled()
    window.show()
    qtbot.waitUntil(lambda: startup.app is not None, timeout=20000)
    app = startup.app
    assert app is not None and window.attached and app.window is window
    assert window.stack.count() == 4 and window.act_new.isEnabled()
    assert window.jobs.stale  # the Jobs page reads nothing until it is shown
    qtbot.waitUntil(lambda: bool(offered), timeout=5000)  # empty store: the sandbox is offered
    window.nav.setCurrentRow(3)
    assert not window.jobs.stale
    app.runner.shutdown()
    app.services.close()
    import gc  # Startup.open() tuned this test process as it tunes the app's (settle_gc): undo it

    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    sys.setswitchinterval(0.005)
