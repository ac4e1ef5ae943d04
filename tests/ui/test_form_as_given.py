"""The GUI does what it shows (issue 18): Test, Dry Run and Sync Now run the form as seen and save nothing;
Discard/Esc bring the stored settings back; no stale verdicts; Save confirms; Delete checks first.

Real loopback sandboxes (toy, Octane), the real SQLite file and the real keyring (scripts/with-keyring).
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from almdesk.sandbox.base import SandboxServer
from almdesk.services import Services
from almdesk.ui.connection_page import ConnectionPage
from almdesk.ui.connector_page import ConnectorPage
from almdesk.ui.field_editors import ServerPicker
from almdesk.ui.forms import SecretEdit
from almdesk.ui.main_window import MainWindow
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_console import SyncConsole
from almdesk.ui.workspace_location import with_workspace
from tests.core.test_settings_as_given import snapshot
from tests.toy import TOKEN
from tests.ui.conftest import OctaneEnv, add_tasks


@pytest.fixture
def toy(services: Services, toy_server: SandboxServer) -> int:
    return services.config.save_connector("Toy", "toy", {"url": toy_server.url, "user": "admin"}, {"token": TOKEN})


def shown(qtbot: QtBot, widget: Any) -> None:
    """Show ``widget`` as the active window (its shortcuts need that, as on a desktop)."""
    widget.show()
    with qtbot.waitActive(widget):
        widget.activateWindow()


def connector_page(qtbot: QtBot, services: Services, runner: JobRunner) -> ConnectorPage:
    page = ConnectorPage(services, runner)
    qtbot.addWidget(page)
    page.resize(1100, 620)
    shown(qtbot, page)
    return page


def form_edit(page: ConnectorPage, name: str) -> Any:
    assert page.editor.form is not None
    return page.editor.form.editors[name]


def type_token(qtbot: QtBot, page: ConnectorPage, token: str) -> None:
    secret = form_edit(page, "token")
    assert isinstance(secret, SecretEdit)
    qtbot.keyClicks(secret.edit, token)


def run_test(qtbot: QtBot, page: ConnectorPage) -> None:
    with qtbot.waitSignal(page.editor.runner.finished, timeout=15000):
        qtbot.mouseClick(page.editor.test_btn, Qt.MouseButton.LeftButton)


def test_connector_test_runs_the_typed_secret_and_saves_nothing(qtbot: QtBot, services: Services, runner: JobRunner,
                                                                toy: int) -> None:
    page = connector_page(qtbot, services, runner)
    assert page.editor.info is not None and page.editor.info.id == toy
    before = snapshot(services)
    type_token(qtbot, page, "typed-to-try-it-wrong")
    run_test(qtbot, page)
    assert page.editor.steps.summary.text().startswith("✖")
    assert page.editor.form is not None and page.editor.form.errors["token"].isVisible()  # from the typed failure
    assert page.editor.dirty  # still the user's unsaved edit
    assert snapshot(services) == before  # the stored row and the keyring are as they were


def test_discard_and_esc_bring_the_stored_settings_back(qtbot: QtBot, services: Services, runner: JobRunner,
                                                        toy: int, monkeypatch: pytest.MonkeyPatch) -> None:
    services.config.save_connector("Other", "toy", {"url": "https://other.example", "user": "u"}, {"token": "t"})
    page = connector_page(qtbot, services, runner)
    page.select_row(1)  # "Toy" (sorted after "Other")
    assert page.editor.info is not None and page.editor.info.id == toy
    stored_url = page.editor.info.params["url"]
    url = form_edit(page, "url")
    url.clear()
    qtbot.keyClicks(url, "http://127.0.0.1:9")
    type_token(qtbot, page, "wrong-token")
    run_test(qtbot, page)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Discard)
    page.select_row(0)
    page.select_row(1)
    assert form_edit(page, "url").text() == stored_url and not page.editor.dirty
    run_test(qtbot, page)
    assert page.editor.steps.summary.text().startswith("✔")  # the stored token still works

    url = form_edit(page, "url")
    qtbot.keyClicks(url, "/typo")
    assert page.editor.dirty
    qtbot.keyClick(url, Qt.Key.Key_Escape)
    assert form_edit(page, "url").text() == stored_url and not page.editor.dirty


def test_an_old_verdict_goes_when_a_field_changes_or_an_error_shows(qtbot: QtBot, services: Services,
                                                                   runner: JobRunner, toy: int) -> None:
    page = connector_page(qtbot, services, runner)
    run_test(qtbot, page)
    assert page.editor.steps.summary.text().startswith("✔ All")
    qtbot.keyClicks(form_edit(page, "user"), "x")
    assert "✔" not in page.editor.steps.summary.text()
    assert page.editor.steps.tree.topLevelItemCount() == 0

    run_test(qtbot, page)
    assert page.editor.steps.summary.text().startswith("✔ All")
    page.editor.name.clear()  # a new blocking error (not a user edit signal)
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert page.editor.name_error.isVisible()
    assert "✔" not in page.editor.steps.summary.text()


def test_save_confirms_and_ctrl_s_saves(qtbot: QtBot, services: Services, runner: JobRunner, toy: int) -> None:
    page = connector_page(qtbot, services, runner)
    said: list[str] = []
    page.message.connect(said.append)
    user = form_edit(page, "user")
    user.clear()
    qtbot.keyClicks(user, "svc")
    qtbot.keyClick(user, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not page.editor.dirty
    assert services.config.connector(toy).params["user"] == "svc"
    assert said == ["Saved connector Toy."]
    assert page.editor.notice.isVisible() and "Saved connector Toy" in page.editor.notice.text()
    qtbot.keyClicks(form_edit(page, "user"), "2")
    assert not page.editor.notice.isVisible()


def test_delete_checks_connections_before_asking(qtbot: QtBot, services: Services, runner: JobRunner, toy: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    services.config.add_project("Web")
    services.config.save_connection("web-toy", toy, "Web", {"toy_project": "DEMO"})
    asked: list[tuple[Any, ...]] = []
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a) or QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: told.append(text))
    page = connector_page(qtbot, services, runner)
    qtbot.mouseClick(page.editor.del_btn, Qt.MouseButton.LeftButton)
    assert asked == [] and len(told) == 1 and "web-toy" in told[0]
    assert services.config.connector(toy).name == "Toy"

    services.config.delete_connection("web-toy")
    page.list.setFocus()
    qtbot.keyClick(page.list, Qt.Key.Key_Delete)  # the Delete key on the list: the same checks and question
    assert len(asked) == 1
    buttons = QMessageBox.StandardButton
    assert asked[0][3] == buttons.Yes | buttons.No and asked[0][4] == buttons.No  # No is the default
    assert page.count() == 1  # answered No

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    qtbot.keyClick(page.list, Qt.Key.Key_Delete)
    assert page.count() == 0 and services.config.connectors() == []


def test_the_open_editor_follows_its_connector_changing_underneath(qtbot: QtBot, services: Services,
                                                                   runner: JobRunner, toy: int) -> None:
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    shown(qtbot, window)
    page = window.connectors
    assert page.editor.info is not None and page.editor.info.id == toy
    # what the demo does on start: re-point its connector at the sandbox's new port, then reload the pages
    services.config.save_connector("Toy", "toy", {"url": "http://127.0.0.1:4242", "user": "admin"}, {},
                                   connector_id=toy)
    window.reload_pages()
    assert form_edit(page, "url").text() == "http://127.0.0.1:4242"
    assert page.editor.info is not None and page.editor.info.params["url"] == "http://127.0.0.1:4242"

    qtbot.keyClicks(form_edit(page, "user"), "-mine")  # with edits of its own the editor keeps them, and says so
    services.config.save_connector("Toy", "toy", {"url": "http://127.0.0.1:4343", "user": "admin"}, {},
                                   connector_id=toy)
    window.reload_pages()
    assert form_edit(page, "user").text() == "admin-mine" and page.editor.banner.isVisible()
    qtbot.keyClick(form_edit(page, "user"), Qt.Key.Key_Escape)
    assert form_edit(page, "url").text() == "http://127.0.0.1:4343"


def test_picking_a_workspace_updates_the_location(qtbot: QtBot, services: Services, runner: JobRunner,
                                                  octane: OctaneEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from almdesk.ui import workspace_picker

    assert with_workspace("https://o.example/ui/?p=1001/1002", "1003") == "https://o.example/ui/?p=1001/1003"
    assert with_workspace("https://o.example/ui/?p=1001", "1003") == "https://o.example/ui/?p=1001/1003"
    monkeypatch.setattr(workspace_picker, "pick_workspace", lambda *_a: "1003")
    page = connector_page(qtbot, services, runner)
    assert page.editor.info is not None and page.editor.info.id == octane.connector_id
    assert "p=1001/1002" in form_edit(page, "location").text()
    page.editor.pick_workspace()
    assert form_edit(page, "workspace").text() == "1003"
    assert "p=1001/1003" in form_edit(page, "location").text()


# --- the connection page -----------------------------------------------------------------------------
def connection_page(qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> ConnectionPage:
    page = ConnectionPage(services, runner)
    qtbot.addWidget(page)
    page.resize(1100, 650)
    shown(qtbot, page)
    page.reload(octane.connection_id)
    assert page.current_id() == octane.connection_id
    return page


def workspace_edit(page: ConnectionPage) -> Any:
    """The workspace's text box (a server-backed picker: the line edit of its combo)."""
    editor = page.editor.forms["Target"].editors["workspace"]
    return editor.combo.lineEdit() if isinstance(editor, ServerPicker) else editor


def test_connection_test_runs_the_form_and_shows_its_steps(qtbot: QtBot, services: Services, runner: JobRunner,
                                                           octane: OctaneEnv) -> None:
    page = connection_page(qtbot, services, runner, octane)
    editor = page.editor
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(editor.test_btn, Qt.MouseButton.LeftButton)
    assert editor.tabs.currentWidget() is editor.steps
    assert editor.steps.tree.topLevelItemCount() >= 4  # the connection test has a step list
    assert editor.steps.summary.text().startswith("✔")

    before = snapshot(services)
    ws = workspace_edit(page)
    ws.clear()
    qtbot.keyClicks(ws, "9999")  # unsaved: the test must use it
    with qtbot.waitSignal(runner.finished, timeout=20000):
        editor.test()
    assert editor.steps.summary.text().startswith("✖")
    assert editor.dirty and snapshot(services) == before
    qtbot.keyClick(ws, Qt.Key.Key_Escape)
    assert workspace_edit(page).text() == octane.describe["connection_params"]["workspace"] and not editor.dirty


def test_dry_run_and_sync_now_get_a_spec_of_the_form(qtbot: QtBot, services: Services, runner: JobRunner,
                                                     octane: OctaneEnv) -> None:
    add_tasks(services, octane.project_id, 5)
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    shown(qtbot, window)
    window.nav.setCurrentRow(1)
    window.connections.reload(octane.connection_id)
    ws = workspace_edit(window.connections)
    ws.clear()
    qtbot.keyClicks(ws, "9999")
    before = snapshot(services)
    window.act_dry.trigger()
    console = window.findChildren(SyncConsole)[-1]
    qtbot.waitUntil(lambda: console.finished_at > 0, timeout=30000)
    assert console.job_result is not None and console.job_result.state == "failed"  # the unsaved workspace
    assert snapshot(services) == before
    console.close()

    shown(qtbot, window)
    qtbot.keyClick(workspace_edit(window.connections), Qt.Key.Key_Escape)  # back to the stored workspace
    assert not window.connections.editor.dirty
    window.act_dry.trigger()
    console = next(c for c in window.findChildren(SyncConsole) if c is not console)
    qtbot.waitUntil(lambda: console.finished_at > 0, timeout=30000)
    assert console.job_result is not None and console.job_result.state == "succeeded"
    console.close()


def test_connection_save_confirms_and_ctrl_s(qtbot: QtBot, services: Services, runner: JobRunner,
                                             octane: OctaneEnv) -> None:
    page = connection_page(qtbot, services, runner, octane)
    said: list[str] = []
    page.message.connect(said.append)
    qtbot.keyClicks(page.editor.alias, "-2")
    qtbot.keyClick(page.editor.alias, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert services.config.connection(octane.connection_id).alias == "octane-shop-2"
    assert said == ["Saved connection octane-shop-2."]
    assert page.editor.notice.isVisible() and not page.editor.dirty


def test_connection_delete_asks_with_no_as_default(qtbot: QtBot, services: Services, runner: JobRunner,
                                                   octane: OctaneEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[Any, ...]] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a) or QMessageBox.StandardButton.No)
    page = connection_page(qtbot, services, runner, octane)
    qtbot.mouseClick(page.editor.del_btn, Qt.MouseButton.LeftButton)
    buttons = QMessageBox.StandardButton
    assert len(asked) == 1 and asked[0][3] == buttons.Yes | buttons.No and asked[0][4] == buttons.No
    assert services.config.connection(octane.connection_id).alias == "octane-shop"


def test_the_connection_page_lists_workspaces_from_the_server(qtbot: QtBot, services: Services, runner: JobRunner,
                                                              octane: OctaneEnv) -> None:
    """The connection form's listable fields are server-backed pickers: ↻ lists in the worker, the
    combo fills, a pick sets the value; nothing is saved."""
    page = connection_page(qtbot, services, runner, octane)
    picker = page.editor.forms["Target"].editors["workspace"]
    assert isinstance(picker, ServerPicker)
    before = snapshot(services)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(picker.button, Qt.MouseButton.LeftButton)
    values = picker.values()
    assert "1002" in values and len(values) >= 2, values
    other = next(v for v in values if v != "1002")
    picker.combo.activated.emit(values.index(other))
    assert page.editor.params()["workspace"] == other and page.editor.dirty
    assert snapshot(services) == before
