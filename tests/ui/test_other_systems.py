"""Gate and Create Defect dialogs on every other system with a sandbox (Jira, GitHub, Rally)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from almdesk import sandbox
from almdesk.sandbox.base import serve
from almdesk.services import Services
from almdesk.systems.registry import Registry
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.gate_panel import GateDialog
from almdesk.ui.runner import JobRunner

Shot = Callable[[QWidget, str], Path]
# the ALM targets; SD Elements (a task source) has neither a gate nor items to create
OTHERS = [name for name in sandbox.available() if name != "octane" and name in Registry.default().alm_targets()]
WORKSPACE_PARAM = {"jira": "alm_project", "rally": "rally_workspace", "github": "alm_project"}


@pytest.fixture(params=OTHERS)
def target(request: pytest.FixtureRequest, services: Services) -> Iterator[tuple[str, int, int, dict]]:
    """(system, connector id, connection id, connection params) over a fresh sandbox of that system."""
    system = str(request.param)
    if system not in services.registry:
        pytest.skip(f"the {system} system is not installed")
    server = serve(sandbox.create(system, seed=1))
    try:
        info = server.app.describe(server.url)
        connector = services.config.save_connector(f"{system} demo", system, info["params"], info["secrets"])
        services.config.add_project("Shop")
        connection = services.config.save_connection(f"{system}-shop", connector, "Shop", info["connection_params"])
        yield system, connector, connection, info["connection_params"]
    finally:
        server.stop()


def test_defect_and_gate(qtbot: QtBot, services: Services, runner: JobRunner, target: tuple[str, int, int, dict],
                         shot: Shot) -> None:
    system, connector, connection, params = target
    noun = services.registry.get(system).item_noun
    defect = DefectDialog(services, runner, connection_id=connection)
    qtbot.addWidget(defect)
    defect.show()
    assert defect.windowTitle() == f"Create {noun}"
    defect.name.setText("Checkout fails on empty cart")
    defect.description.setPlainText("Steps: empty the cart, press Checkout.")
    with qtbot.waitSignal(runner.finished, timeout=30000):
        defect.submit()
    result = defect.job_result
    assert result is not None and result.state == "succeeded", result and result.outcome.message
    assert html.escape(result.outcome.data["url"]) in defect.created.text()
    shot(defect, f"defect_{system}")

    gate = GateDialog(services, runner, connector_id=connector)
    qtbot.addWidget(gate)
    gate.show()
    label = gate.form.labelForField(gate.workspace_box)
    assert isinstance(label, QLabel) and label.text().replace("&", "") == gate.target.workspace_label()  # less its mnemonic
    gate.threshold.setValue(100000)
    with qtbot.waitSignal(runner.finished, timeout=30000):
        gate.run()
    data = gate.job_result.outcome.data if gate.job_result else {}
    if "passed" not in data:  # a bare connector may need its project/workspace: said under that input
        assert gate.status.text() == "The gate could not run."
        assert gate.errors["workspace"].isVisible(), gate.job_result
        shot(gate, f"gate_{system}_needs_workspace")
        gate.target.workspace.setText(str(params.get(WORKSPACE_PARAM[system], "")))
        with qtbot.waitSignal(runner.finished, timeout=30000):
            gate.run()
        data = gate.job_result.outcome.data if gate.job_result else {}
        assert not gate.errors["workspace"].isVisible()
    assert data.get("passed") is True and gate.verdict.text() == "PASS", gate.job_result
    count, shown = data["count"], gate.items_model.rowCount()
    assert gate.more_box.isVisible() == (0 < shown < count)
    if 0 < shown < count:  # page on demand
        with qtbot.waitSignal(runner.finished, timeout=30000):
            gate.more_btn.click()
        assert gate.items_model.rowCount() == min(count, shown + 50)
        keys = [r[1] for r in gate.items_model.rows]
        assert len(set(keys)) == len(keys), "pages do not overlap"
        assert gate.items_note.text() == f"Showing {gate.items_model.rowCount()} of {count} matching item(s)."
    shot(gate, f"gate_{system}")
