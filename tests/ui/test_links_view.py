"""The connection's Links tab and identity warning, over a real sync against the Octane sandbox (issue 13).

The table lists what the sync linked, filters by text and state, copies and opens a link, detaches a task
and links it again (the look-up in a worker thread); the General tab names a connection sharing the ALM
target with the same context before any sync; a sync console row leads to its task's link.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.sync.link_admin import list_links
from almdesk.ui.connection_page import ConnectionPage
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_console import SyncConsole
from tests.ui.conftest import OctaneEnv, add_tasks

Shot = Callable[[QWidget, str], Path]


def test_links_tab_lists_filters_copies_opens_unlinks_and_links(qtbot: QtBot, services: Services,
                                                                 octane: OctaneEnv, shot: Shot) -> None:
    add_tasks(services, octane.project_id, 30)
    result = services.run(services.sync_spec(octane.connection_id))
    assert result.state == "succeeded", result.outcome.message
    links = list_links(services.store, octane.connection_id)
    assert links and all(v.state == "linked" for v in links)

    page = ConnectionPage(services)
    qtbot.addWidget(page)
    page.show()
    assert page.show_link(octane.connection_id, "")
    view = page.editor.links
    assert page.editor.tabs.currentWidget() is view and page.editor.identity.isHidden()
    assert view.table.topLevelItemCount() == len(links)
    first = links[0]
    view.show_task(first.task_id)
    shown = [view.table.topLevelItem(i).text(0) for i in range(view.table.topLevelItemCount())]  # type: ignore[union-attr]
    assert view.selected() == first and first.task_id in shown and all(first.task_id in t for t in shown)
    assert len(shown) < len(links)
    view.copy_link()
    assert QGuiApplication.clipboard().text() == first.url
    opened: list[QUrl] = []
    view.opener = opened.append
    view.open_link()
    assert [u.toString() for u in opened] == [first.url]

    view.unlink()
    assert view.selected() is not None and view.selected().state == "detached"  # type: ignore[union-attr]
    view.filter.clear()
    view.state.setCurrentIndex(view.state.findData("detached"))
    assert view.table.topLevelItemCount() == 1 and view.table.topLevelItem(0).text(0) == first.task_id  # type: ignore[union-attr]
    view.state.setCurrentIndex(view.state.findData("linked"))
    assert view.table.topLevelItemCount() == len(links) - 1

    view.show_task(first.task_id)
    view.ask_item = lambda _task: first.url
    view.link()
    qtbot.waitUntil(lambda: not view.busy(), timeout=20000)
    assert not view.message.isVisible(), view.message.text()
    assert view.selected() is not None and view.selected().state == "linked"  # type: ignore[union-attr]
    view.ask_item = lambda _task: "99999999"
    view.link()
    qtbot.waitUntil(lambda: not view.busy(), timeout=20000)
    assert view.message.isVisible() and "99999999" in view.message.text()
    shot(page, "connection_links")


def test_the_form_names_a_connection_sharing_the_target_with_the_same_context(qtbot: QtBot, services: Services,
                                                                                octane: OctaneEnv) -> None:
    services.config.add_project("Shop 2")
    other = services.config.save_connection("octane-shop-2", octane.connector_id, "Shop 2",
                                            octane.describe["connection_params"])
    page = ConnectionPage(services)
    qtbot.addWidget(page)
    page.show()
    assert page.show_link(octane.connection_id, "")
    assert not page.editor.identity.isHidden()  # on the General tab, before any sync
    text = page.editor.identity.text()
    assert "'octane-shop-2'" in text and "alm_context" in text
    services.config.save_connection("octane-shop-2", octane.connector_id, "Shop 2",
                                    {**octane.describe["connection_params"], "alm_context": "Second"},
                                    connection_id=other)
    page.editor.load(services.config.connection(octane.connection_id))
    assert page.editor.identity.isHidden()


def test_a_sync_console_row_leads_to_its_link(qtbot: QtBot, services: Services, runner: JobRunner,
                                              octane: OctaneEnv) -> None:
    add_tasks(services, octane.project_id, 10)
    console = SyncConsole(services, runner, services.sync_spec(octane.connection_id))
    qtbot.addWidget(console)
    console.show()
    qtbot.waitUntil(lambda: console.finished_at > 0 and console.drained(), timeout=60000)
    wanted: list[tuple[int, str]] = []
    console.show_link.connect(lambda cid, task: wanted.append((cid, task)))
    row = next(i for i, r in enumerate(console.model.rows) if r[1] == "create")
    console.table.doubleClicked.emit(console.view_index(row, 0))
    task = str(console.model.rows[row][0]).split(" ", 1)[0]
    assert wanted == [(octane.connection_id, task)]
    page = ConnectionPage(services)
    qtbot.addWidget(page)
    assert page.show_link(*wanted[0])
    assert page.editor.links.selected() is not None
    assert page.editor.links.selected().task_id == task  # type: ignore[union-attr]
    console.close()
