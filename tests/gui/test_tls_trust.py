"""Test Connection failing at the TLS step in the GUI, and "Trust this certificate" fixing it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.ui.connector_page import ConnectorPage
from almdesk.ui.runner import JobRunner
from tests.net.pki import Pki
from tests.toy import TOKEN, ToySandbox

Shot = Callable[[QWidget, str], Path]



@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[SandboxServer]:
    issued = Pki(tmp_path).issue("toy-self", ("localhost", "127.0.0.1"), self_signed=True)
    server = serve(ToySandbox(), ssl_context=issued.server_context())
    yield server
    server.stop()


def test_tls_failure_then_trust(qtbot, services: Services, self_signed_server: SandboxServer,  # type: ignore[no-untyped-def]
                                monkeypatch: pytest.MonkeyPatch, shot: Shot) -> None:
    url = self_signed_server.url.replace("127.0.0.1", "localhost")
    services.config.save_connector("Self-signed toy", "toy", {"url": url, "user": "admin"}, {"token": TOKEN})
    runner = JobRunner(services)
    page = ConnectorPage(services, runner)
    qtbot.addWidget(page)
    page.resize(1150, 600)
    page.show()
    page.select_row(0)
    editor = page.editor

    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(editor.test_btn, Qt.MouseButton.LeftButton)
    statuses = editor.steps.statuses()
    assert statuses["TLS handshake"] == "failed"
    assert "self-signed" in editor.steps.summary.text()
    assert editor.trust_btn.isVisible()
    shot(page, "test-connection-tls-failed")

    asked: list[str] = []

    def yes(_parent, _title, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    with qtbot.waitSignal(runner.finished, timeout=20000):  # the fetch
        qtbot.mouseClick(editor.trust_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor._test_handle is None and editor.steps.summary.text().startswith("✔"),
                    timeout=20000)
    assert asked and "SHA-256" in asked[0]
    bundle = Path(services.config.connector("Self-signed toy").network["ca_bundle"])
    assert bundle.parent == services.paths.certs and "BEGIN CERTIFICATE" in bundle.read_text()
    assert not editor.trust_btn.isVisible()
    shot(page, "test-connection-tls-trusted")
