"""Copy link wherever a link is shown (tables' context menus, the links tab, the trace view), and a visible
message in the window with the link to copy when no browser can be started."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from almdesk.services import Services
from almdesk.sync.link_admin import list_links
from almdesk.ui.dialogs import LinkTable, RowsModel
from almdesk.ui.link_actions import BrowserFailed, link_menu
from almdesk.ui.links_view import LinksView
from almdesk.ui.trace_view import TraceView
from tests.ui.conftest import OctaneEnv, add_tasks

URL = "http://alm.example/ui/entity-navigation?p=1001/1002&entityType=work_item&id=2041"


def notices() -> list[BrowserFailed]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, BrowserFailed) and w.isVisible()]


def actions(menu: QMenu | None) -> dict[str, QAction]:
    assert menu is not None
    return {a.text().replace("&", ""): a for a in menu.actions()}


def table(qtbot: QtBot) -> LinkTable:
    model = RowsModel(["Key", "Title", "Link"], url_column=2)
    model.set_rows([("2041", "Checkout fails", "open"), ("2042", "No link", "")], urls=[URL, ""])
    view = LinkTable(model)
    qtbot.addWidget(view)
    view.show()
    return view


def test_link_table_context_menu_copies_and_opens(qtbot: QtBot) -> None:
    view = table(qtbot)
    model = view.rows_model
    menu = view.menu_for(model.index(0, 1))  # any cell of the row
    found = actions(menu)
    assert set(found) == {"Open link", "Copy link"}
    QGuiApplication.clipboard().clear()
    found["Copy link"].trigger()
    assert QGuiApplication.clipboard().text() == URL
    opened: list[QUrl] = []
    view.opener = opened.append
    actions(view.menu_for(model.index(0, 0)))["Open link"].trigger()
    assert [u.toString() for u in opened] == [URL]
    assert view.menu_for(model.index(1, 0)) is None, "no menu on a row without a link"


def test_no_browser_says_so_in_the_window_with_the_link(qtbot: QtBot) -> None:
    view = table(qtbot)
    view.opener = lambda _url: False  # QDesktopServices.openUrl could not start a browser
    view.clicked.emit(view.rows_model.index(0, 2))
    shown = notices()
    assert len(shown) == 1 and shown[0].link.text() == URL and shown[0].link.isReadOnly()
    QGuiApplication.clipboard().clear()
    shown[0].copy_btn.click()
    assert QGuiApplication.clipboard().text() == URL
    shown[0].close()


def test_link_menu_needs_a_link() -> None:
    assert link_menu(None, "", lambda _u: True) is None  # type: ignore[arg-type]


def test_links_tab_row_menu_and_no_browser(qtbot: QtBot, services: Services, octane: OctaneEnv) -> None:
    add_tasks(services, octane.project_id, 8)
    result = services.run(services.sync_spec(octane.connection_id))
    assert result.state == "succeeded", result.outcome.message
    first = list_links(services.store, octane.connection_id)[0]
    view = LinksView(services)
    qtbot.addWidget(view)
    view.load(octane.connection_id)
    view.show()
    view.show_task(first.task_id)
    assert view.selected() == first
    view.opener = lambda _url: False
    view.open_link()
    shown = notices()
    assert shown and shown[-1].link.text() == first.url
    shown[-1].close()


def test_trace_view_copies_an_exchange_url(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    entry = {"method": "GET", "url": "https://alm.example/api/shared_spaces/1001/workspaces", "status": 200,
             "elapsed_ms": 3.0, "request_headers": {}, "response_headers": {}, "response_body": "{}"}
    path.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    view = TraceView(path)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)
    assert view.url_btn.isEnabled()
    QGuiApplication.clipboard().clear()
    assert view.copy_url() == entry["url"] and QGuiApplication.clipboard().text() == entry["url"]
    assert "Copy link" in actions(view.table.menu_for(view.table.model().index(0, 4)))
