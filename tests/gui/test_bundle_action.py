"""File › Save support bundle: runs in the worker and writes a zip for the selected connection."""

from __future__ import annotations

import zipfile

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from almdesk.sandbox.base import SandboxServer
from almdesk.services import Services
from almdesk.ui.main_window import MainWindow
from almdesk.ui.runner import JobRunner
from tests.toy import TOKEN


def test_bundle_for_selected_connection(qtbot, services: Services, toy_server: SandboxServer,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    services.config.save_connector("toy", "toy", {"url": toy_server.url, "user": "admin"}, {"token": TOKEN})
    services.config.add_project("P")
    services.config.save_connection("toy-p", "toy", "P", {"toy_project": "DEMO"}, debug_mode=True)
    services.run(services.test_spec(connection="toy-p"))
    runner = JobRunner(services)
    window = MainWindow(services, runner, QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.nav.setCurrentRow(1)
    first = window.connections.list.topLevelItem(0)
    assert first.text(1) == services.registry.get("toy").label  # the system's label, not its key
    window.connections.list.setCurrentItem(first)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    with qtbot.waitSignal(runner.finished, timeout=20000):
        window.save_bundle()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    path = shown[0].split("written to ", 1)[1]
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        blob = b"".join(zf.read(n) for n in names)
    assert any(n.endswith(".jsonl") for n in names), names
    assert TOKEN.encode() not in blob
