"""Each installed system in the connector editor: Test Connection passes against its sandbox, and a
wrong secret fails at the authentication step with its own message, shown in the step list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from almdesk import sandbox
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.systems.registry import Registry
from almdesk.ui.connector_page import ConnectorPage
from almdesk.ui.runner import JobRunner

Shot = Callable[[QWidget, str], Path]

SYSTEMS = [s for s in sandbox.available() if s in Registry.default()]


@pytest.fixture(params=SYSTEMS)
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    srv = serve(sandbox.create(request.param, seed=5))
    yield srv
    srv.stop()


def run_test(qtbot, page: ConnectorPage) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.editor.runner.finished, timeout=30000):
        qtbot.mouseClick(page.editor.test_btn, Qt.MouseButton.LeftButton)
    return page.editor.steps.statuses()


def test_pass_then_wrong_secret(qtbot, services: Services, server: SandboxServer, shot: Shot) -> None:  # type: ignore[no-untyped-def]
    desc = server.describe()
    system = desc["system"]
    services.config.save_connector(f"{system} demo", system, desc["params"], desc["secrets"])
    page = ConnectorPage(services, JobRunner(services))
    qtbot.addWidget(page)
    page.resize(1200, 620)
    page.show()
    page.select_row(0)
    statuses = run_test(qtbot, page)
    assert set(statuses.values()) <= {"ok", "warning"}, statuses
    shot(page, f"steps-{system}-ok")

    secret_field = next(iter(desc["secrets"]))
    form = page.editor.form
    assert form is not None
    qtbot.keyClicks(form.editors[secret_field].edit, "definitely-wrong-secret")
    statuses = run_test(qtbot, page)
    failed = [name for name, icon in statuses.items() if icon == "failed"]
    assert len(failed) == 1, statuses
    summary = page.editor.steps.summary.text()
    assert summary.startswith("✖") and "—" in summary  # the message and its hint
    assert "definitely-wrong-secret" not in summary
    shot(page, f"steps-{system}-bad-secret")
