"""The connection form: an optional field with a non-empty default (GitHub's labels) can be cleared and stays so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from almdesk import sandbox
from almdesk.services import Services
from almdesk.ui.connection_page import ConnectionEditor

Shot = Callable[[QWidget, str], Path]


def _editor(page: ConnectionEditor, name: str) -> QLineEdit:
    for form in page.forms.values():
        if name in form.editors:
            editor = form.editors[name]
            assert isinstance(editor, QLineEdit)
            return editor
    raise AssertionError(name)


def test_cleared_github_labels_stay_cleared_after_save_and_reload(qtbot: QtBot, services: Services,
                                                                   shot: Shot) -> None:
    info = sandbox.create("github").describe("http://127.0.0.1:9")
    connector = services.config.save_connector("GitHub", "github", info["params"], info["secrets"])
    services.config.add_project("Shop")
    params = {k: v for k, v in info["connection_params"].items()
              if k not in ("github_issue_label", "github_duplicate_label")}
    cid = services.config.save_connection("gh-shop", connector, "Shop", params)

    page = ConnectionEditor(services)
    qtbot.addWidget(page)
    page.load(services.config.connection(cid))
    label, duplicate = _editor(page, "github_issue_label"), _editor(page, "github_duplicate_label")
    assert (label.text(), duplicate.text()) == ("almdesk", "duplicate")
    label.clear()
    duplicate.clear()
    assert page.save(), [e.text() for e in page.errors.values()]
    stored = services.config.connection(cid).params
    assert stored["github_issue_label"] == "" and stored["github_duplicate_label"] == ""

    again = ConnectionEditor(services)
    qtbot.addWidget(again)
    again.resize(640, 560)
    again.load(services.config.connection(cid))
    label = _editor(again, "github_issue_label")
    assert label.text() == "" and label.placeholderText() == "empty: no label"
    assert _editor(again, "github_duplicate_label").text() == ""
    again.tabs.setCurrentIndex(next(i for i in range(again.tabs.count()) if again.tabs.tabText(i) == "Target"))
    again.show()
    shot(again, "connection_cleared_labels")
    # saving the reloaded form unchanged keeps them cleared
    assert again.save()
    assert services.config.connection(cid).params["github_issue_label"] == ""


def test_title_format_with_context_and_no_context_shows_the_error_under_context(qtbot: QtBot, services: Services,
                                                                                shot: Shot) -> None:
    info = sandbox.create("github").describe("http://127.0.0.1:9")
    connector = services.config.save_connector("GitHub", "github", info["params"], info["secrets"])
    services.config.add_project("Shop")
    cid = services.config.save_connection("gh-shop", connector, "Shop", info["connection_params"])
    page = ConnectionEditor(services)
    qtbot.addWidget(page)
    page.resize(640, 560)
    page.load(services.config.connection(cid))
    _editor(page, "alm_title_format").setText("[$context] $task_id $title")
    assert not page.save()
    target = page.forms["Target"]
    assert target.errors["alm_context"].text().startswith("Title format uses $context, but Context is empty.")
    page.show()
    shot(page, "connection_context_error")
    _editor(page, "alm_context").setText("Team A")
    assert page.save()
    assert services.config.connection(cid).params["alm_context"] == "Team A"
