"""Projects bound to SD Elements in the GUI, offscreen against the sandbox: the picker lists the
hierarchy in a worker job and filters it, Bind creates the project and refreshes it, the Projects page
shows the source and refreshes it, and a sync's write-backs show as events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import create
from almdesk.services import Services
from almdesk.ui.projects_view import ProjectsView
from almdesk.ui.runner import JobRunner
from almdesk.ui.source_picker import SourcePickerDialog

Shot = Callable[[QWidget, str], Path]


@pytest.fixture
def sde(services: Services) -> Iterator[SandboxServer]:
    server = serve(create(seed=6))
    desc = server.describe()
    services.config.save_connector("SD Elements", "sdelements", desc["params"], desc["secrets"])
    yield server
    server.stop()


def visible_names(dialog: SourcePickerDialog) -> list[str]:
    out: list[str] = []

    def walk(item) -> None:  # type: ignore[no-untyped-def]
        if not item.isHidden():
            out.append(item.text(0))
        for i in range(item.childCount()):
            walk(item.child(i))

    for i in range(dialog.tree.topLevelItemCount()):
        walk(dialog.tree.topLevelItem(i))
    return out


def test_picker_lists_filters_and_binds(qtbot: QtBot, services: Services, runner: JobRunner, sde: SandboxServer,
                                        shot: Shot) -> None:
    dialog = SourcePickerDialog(services, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.load()
    names = visible_names(dialog)
    assert {"General", "Demo Application", "Demo Project", "Retail", "Checkout"} <= set(names)
    qtbot.keyClicks(dialog.filter, "check")
    assert visible_names(dialog) == ["Retail", "Web Shop", "Checkout"]
    dialog.filter.clear()
    demo = dialog.tree.findItems("Demo Project", Qt.MatchFlag.MatchRecursive)[0]
    dialog.tree.setCurrentItem(demo)
    assert dialog.bind_btn.isEnabled() and dialog.name.text() == "Demo Project"
    shot(dialog, "sde-picker")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.bind()
    assert dialog.project_id is not None
    row = next(p for p in services.config.projects() if p["id"] == dialog.project_id)
    assert row["source"] == "SD Elements" and row["tasks"] > 60 and row["business_unit"] == "General"


def test_projects_page_shows_the_source_and_refreshes(qtbot: QtBot, services: Services, runner: JobRunner,
                                                       sde: SandboxServer, shot: Shot) -> None:
    from almdesk.sources import bind_project

    pid = services.config.add_project("Shop", "General", "Demo Application")
    bind_project(services.store, services.registry, pid, "SD Elements", 1)
    services.config.add_project("From a file")
    view = ProjectsView(services, runner)
    qtbot.addWidget(view)
    view.resize(1200, 640)
    view.show()
    view.reload(pid)
    assert view.source.isVisible() and "refreshed never" in view.source.label.text()
    with qtbot.waitSignal(view.source.refreshed, timeout=20000):
        view.source.refresh()
    assert view.current_project() == pid
    text = view.source.label.text()
    assert "SD Elements project #1 Demo Project" in text and "new" in text and "never" not in text
    assert view.list.currentItem().text(0) == "⇄ Shop" and view.model.total > 60
    shot(view, "sde-bound-project")
    other = next(p["id"] for p in services.config.projects() if p["name"] == "From a file")
    view.reload(other)
    assert not view.source.isVisible()


def test_sync_console_shows_write_backs(qtbot: QtBot, services: Services, runner: JobRunner, shot: Shot) -> None:
    from almdesk.ui.sync_console import SyncConsole
    from tests.sdelements.bound import ALIAS, bound

    with bound(services) as env:
        assert env.sync().state == "succeeded"
        item = env.jira_items()[0]
        env.set_jira_done(item)
        console = SyncConsole(services, runner, services.sync_spec(ALIAS))
        qtbot.addWidget(console)
        console.resize(1100, 520)
        console.show()
        qtbot.waitUntil(lambda: console.finished_at > 0 and console.drained(), timeout=60000)
        result = console.job_result
        assert result is not None and result.state == "succeeded", result and result.outcome.message
        assert result.outcome.data["write_back"]["statuses"] == 1
        texts = [console.model.item(r, c).text() for r in range(console.model.rowCount())
                 for c in range(console.model.columnCount()) if console.model.item(r, c) is not None]
        assert "sde-status" in texts and any(item.key in t for t in texts)
        shot(console, "sde-sync-write-back")
