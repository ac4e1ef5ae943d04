"""The Server page over real HTTP: Pull fills the items beside the local ones, Push shows the plan
as a diff table before asking, writes, and leaves a clean plan; Test on server shows both verdicts.
Screenshots of the page and of the plan are saved under tmp_path (and ``$ALMDESK_SHOTS`` if set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.ui.runner import JobRunner
from almdesk.ui.server_page import ServerPage
from tests.remote.conftest import Env


@pytest.fixture
def page(qtbot: QtBot, env: Env) -> Iterator[ServerPage]:
    runner = JobRunner(env.services)
    widget = ServerPage(env.services, runner)
    qtbot.addWidget(widget)
    widget.resize(1250, 720)
    widget.show()
    yield widget
    runner.shutdown()


def _shot(widget: QWidget, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    assert widget.grab().save(str(path))
    if os.environ.get("ALMDESK_SHOTS"):
        Path(os.environ["ALMDESK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["ALMDESK_SHOTS"]) / path.name)
    return path


def _rows(tree) -> list[tuple[str, ...]]:
    return [tuple(tree.topLevelItem(i).text(c) for c in range(tree.columnCount()))
            for i in range(tree.topLevelItemCount())]


def _click_and_wait(qtbot: QtBot, page: ServerPage, key: str) -> None:
    qtbot.mouseClick(page.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.handle is None, timeout=30000)


def test_pull_then_push_with_the_plan_shown_first(qtbot: QtBot, page: ServerPage, env: Env, tmp_path: Path) -> None:
    assert page.source.currentText() == "SDE" and page.buttons["cancel"].isEnabled() is False
    _click_and_wait(qtbot, page, "pull")
    rows = _rows(page.items)
    assert ("connector", "JIRA Example Connector (#2)", "jira", "JIRA Example Connector", "mirrored", "", "") in rows
    rally = next(r for r in rows if r[1] == "Rally Integration (#1)")
    assert rally[3] == "—" and rally[4].startswith("read-only: it is a rally connection") and rally[6].startswith(
        "failed 2016-12-15")
    cfg = env.services.config
    info = cfg.connection("Example Connection")
    cfg.save_connection(info.alias, info.connector, info.project, {**info.params, "alm_project": "NEWKEY"},
                        frequency="daily", debug_mode=True, connection_id=info.id)
    jira = cfg.connector("JIRA Example Connector")
    cfg.save_connector(jira.name, jira.system, jira.params, {"token": "canary-gui-pw-55"}, jira.network,
                       connector_id=jira.id)
    seen: list[list[tuple[str, ...]]] = []

    def confirm(text: str) -> bool:
        seen.append(_rows(page.diff))
        _shot(page, tmp_path, "server_page_plan")
        return True

    page.confirm = confirm
    qtbot.mouseClick(page.buttons["push"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen) and page.handle is None, timeout=30000)
    plan = seen[0]
    assert ("connection Example Connection", "update", "frequency", "hourly", "daily") in plan
    assert ("connection Example Connection", "update", "alm_project", "EXAMPLE", "NEWKEY") in plan
    assert ("connector JIRA Example Connector", "update", "alm_pass", "(secret)", "secret changed") in plan
    assert all("canary" not in cell for row in plan for cell in row)
    assert env.app.store.connections[5]["frequency"] == "daily"
    assert env.app.store.connectors[2]["params"]["alm_pass"] == "canary-gui-pw-55"
    assert "2 pushed" in page.status.text()
    assert {r[1] for r in _rows(page.diff)} <= {"unchanged", "read-only"}
    _shot(page, tmp_path, "server_page")


def test_test_on_server_shows_both_answers(qtbot: QtBot, page: ServerPage, env: Env) -> None:
    _click_and_wait(qtbot, page, "pull")
    row = next(i for i in range(page.items.topLevelItemCount())
               if page.items.topLevelItem(i).text(3) == "JIRA Example Connector")
    page.items.setCurrentItem(page.items.topLevelItem(row))
    qtbot.mouseClick(page.buttons["test"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Desktop:" in page.status.text(), timeout=30000)
    assert page.status.text().startswith("Server: success.")
    assert "They disagree: the server reaches the ALM but this desktop cannot" in page.status.text()


def test_cancel_stops_a_push_before_its_next_item(qtbot: QtBot, page: ServerPage, env: Env) -> None:
    import threading

    _click_and_wait(qtbot, page, "pull")
    cfg = env.services.config
    info = cfg.connection("Example Connection")
    cfg.save_connection(info.alias, info.connector, info.project, {**info.params, "alm_project": "NEWKEY"},
                        frequency="daily", debug_mode=True, connection_id=info.id)
    real = env.app.handlers["alm.connectors"]
    reading, release = threading.Event(), threading.Event()
    hold = {"on": False}

    def held(call, **values):  # the push's first read waits until the test has pressed Cancel
        if hold["on"]:
            hold["on"] = False
            reading.set()
            release.wait(10)
        return real(call, **values)

    env.app.handlers["alm.connectors"] = held

    def confirm(_text: str) -> bool:
        hold["on"] = True
        return True

    page.confirm = confirm
    qtbot.mouseClick(page.buttons["push"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reading.is_set, timeout=30000)
    assert page.buttons["cancel"].isEnabled()
    qtbot.mouseClick(page.buttons["cancel"], Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: page.handle is None, timeout=30000)
    assert "Cancelled" in page.status.text()
    assert env.app.store.connections[5]["frequency"] == "hourly"  # nothing was written
    env.app.handlers["alm.connectors"] = real
