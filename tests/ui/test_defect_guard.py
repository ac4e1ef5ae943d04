"""Create Defect creates one defect per form: a second Enter or click (while running or after success) and
a retry of the same form create nothing more; Octane's defect is said to be a draft; the link is copied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from almdesk.base.records import CreatedItem, DefectRequest
from almdesk.jobs.record import run_recorded
from almdesk.services import Services
from almdesk.ui.defect_dialog import DefectDialog
from almdesk.ui.link_actions import BrowserFailed
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv

Shot = Callable[[QWidget, str], Path]


def work_items(octane: OctaneEnv) -> int:
    """How many work items (defects included) the sandbox holds in all workspaces."""
    site = octane.server.app.site
    return sum(len(ws.of_type("work_item")) for ws in site.workspaces.values())


def defect_dialog(qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> DefectDialog:
    dialog = DefectDialog(services, runner, connection_id=octane.connection_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.name.setText("Checkout button does nothing")
    return dialog


def test_second_enter_while_running_and_after_success_creates_one_defect(
        qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv, shot: Shot) -> None:
    dialog = defect_dialog(qtbot, services, runner, octane)
    before = work_items(octane)
    dialog.name.setFocus()
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # Enter: the default button, Create
        assert not dialog.create_btn.isEnabled(), "disabled while it runs"
        assert dialog.submit() is None, "a second submit while running does nothing"
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.job_result is not None and dialog.job_result.state == "succeeded"
    assert work_items(octane) == before + 1
    assert dialog.item is not None and dialog.created.isVisible()
    assert not dialog.create_btn.isEnabled() and dialog.close_btn.isDefault()
    assert dialog.submit() is None, "after success the form is done"
    dialog.create_btn.click()  # disabled: nothing
    QApplication.processEvents()
    assert dialog.handle is None and work_items(octane) == before + 1
    shot(dialog, "defect_done_once")


def test_result_has_copy_link_and_open_says_when_no_browser(
        qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> None:
    dialog = defect_dialog(qtbot, services, runner, octane)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    item = dialog.item
    assert isinstance(item, CreatedItem) and item.url
    assert dialog.copy_btn.isVisible() and dialog.copy_btn.isEnabled()
    dialog.copy_btn.click()
    assert QGuiApplication.clipboard().text() == item.url
    dialog.opener = lambda _url: False  # no browser could be started
    dialog.open_btn.click()
    notices = [w for w in QApplication.topLevelWidgets() if isinstance(w, BrowserFailed) and w.isVisible()]
    assert notices and notices[-1].link.text() == item.url
    QGuiApplication.clipboard().clear()
    notices[-1].copy_btn.click()
    assert QGuiApplication.clipboard().text() == item.url
    notices[-1].close()
    opened: list[QUrl] = []
    dialog.opener = opened.append
    dialog.open_btn.click()
    assert [u.toString() for u in opened] == [item.url]


def test_octane_says_the_defect_is_a_draft(qtbot: QtBot, services: Services, runner: JobRunner,
                                           octane: OctaneEnv, shot: Shot) -> None:
    dialog = defect_dialog(qtbot, services, runner, octane)
    assert dialog.draft_note.isVisible() and "draft" in dialog.draft_note.text()
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    assert "draft" in dialog.created.text() and "phase New" in dialog.created.text()
    shot(dialog, "defect_octane_draft")


def test_create_another_makes_a_new_one(qtbot: QtBot, services: Services, runner: JobRunner,
                                        octane: OctaneEnv) -> None:
    dialog = defect_dialog(qtbot, services, runner, octane)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    first = dialog.item
    key = dialog.idempotency_key
    dialog.another_btn.click()
    assert dialog.create_btn.isEnabled() and not dialog.name.text() and not dialog.created.isVisible()
    dialog.name.setText("A second, different problem")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        assert dialog.submit() is not None
    assert dialog.item is not None and first is not None and dialog.item.key != first.key
    assert dialog.idempotency_key != key, "a new form content gets its own key"


def test_a_retry_of_the_same_form_returns_the_item_already_created(services: Services, octane: OctaneEnv) -> None:
    """The job looks for the item an earlier attempt with the same key created before creating one."""
    request = DefectRequest(name="Search returns nothing")
    before = work_items(octane)
    first = run_recorded(services.store, services.defect_spec(request, connection=octane.connection_id,
                                                              idempotency_key="k-1"))
    assert first.state == "succeeded" and work_items(octane) == before + 1
    again = run_recorded(services.store, services.defect_spec(request, connection=octane.connection_id,
                                                              idempotency_key="k-1"))
    assert again.state == "succeeded" and work_items(octane) == before + 1, "not created twice"
    assert isinstance(again.outcome.payload, CreatedItem) and isinstance(first.outcome.payload, CreatedItem)
    assert again.outcome.payload.key == first.outcome.payload.key
    assert again.outcome.data["reused"] is True and "Already created" in again.outcome.message
    other = run_recorded(services.store, services.defect_spec(request, connection=octane.connection_id,
                                                              idempotency_key="k-2"))
    assert other.state == "succeeded" and work_items(octane) == before + 2


def test_the_dialog_keeps_its_key_for_a_retry_after_a_failure(qtbot: QtBot, services: Services,
                                                              runner: JobRunner, octane: OctaneEnv) -> None:
    dialog = defect_dialog(qtbot, services, runner, octane)
    dialog.severity.setText("Apocalyptic")  # refused: the job fails
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    assert dialog.item is None and dialog.create_btn.isEnabled()
    key = dialog.idempotency_key
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()  # the same form again: a retry
    assert dialog.idempotency_key == key
    dialog.severity.setText("High")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        dialog.submit()
    assert dialog.item is not None and dialog.idempotency_key != key, "a changed form is a new request"
