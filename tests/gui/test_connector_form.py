"""The connector form built from the schema: save to the DB and the keyring, inline errors, nothing half-saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget

from almdesk.models import Connector
from almdesk.sandbox.base import SandboxServer
from almdesk.services import Services
from almdesk.ui.connector_page import ConnectorPage
from almdesk.ui.forms import SecretEdit
from almdesk.ui.runner import JobRunner
from tests.toy import TOKEN

Shot = Callable[[QWidget, str], Path]



def make_page(qtbot, services: Services) -> ConnectorPage:  # type: ignore[no-untyped-def]
    page = ConnectorPage(services, JobRunner(services))
    qtbot.addWidget(page)
    page.resize(1100, 620)
    page.show()
    page.new("toy")
    return page


def editor(page: ConnectorPage, name: str):  # type: ignore[no-untyped-def]
    assert page.editor.form is not None
    return page.editor.form.editors[name]


def fill(qtbot, page: ConnectorPage, url: str, token: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(page.editor.name, "My toy")
    qtbot.keyClicks(editor(page, "url"), url)
    qtbot.keyClicks(editor(page, "user"), "admin")
    secret = editor(page, "token")
    assert isinstance(secret, SecretEdit)
    assert secret.edit.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(secret.edit, token)


def test_save_puts_row_in_db_and_secret_only_in_keyring(qtbot, services: Services,  # type: ignore[no-untyped-def]
                                                         toy_server: SandboxServer, shot: Shot) -> None:
    page = make_page(qtbot, services)
    fill(qtbot, page, toy_server.url, TOKEN)
    assert page.editor.dirty
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert not page.editor.dirty
    assert page.count() == 1

    with services.store.session() as s:
        row = s.query(Connector).one()
        assert row.name == "My toy" and row.params["url"] == toy_server.url and row.params["user"] == "admin"
        uid = row.uid
    assert services.secrets.get(uid, "token") == TOKEN
    if services.secrets.persistent:
        assert keyring.get_password("almdesk", f"{uid}/token") == TOKEN
    services.store.close()
    for path in services.paths.root.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), f"secret found in {path}"
    # the stored secret is shown as a placeholder, never as text
    secret = editor(page, "token")
    assert secret.edit.text() == "" and "keyring" in secret.edit.placeholderText()

    # Test Connection runs in the worker and fills the step list
    with qtbot.waitSignal(page.editor.runner.finished, timeout=15000):
        qtbot.mouseClick(page.editor.test_btn, Qt.MouseButton.LeftButton)
    assert page.editor.steps.tree.topLevelItemCount() >= 3
    assert page.editor.steps.summary.text().startswith("✔")
    shot(page, "connector-form-tested")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("url", "toy.example.com", "must start with https://"),
    ("url", "https://toy.example.com:99999", "invalid port"),
    ("user", "", "User is required"),
    ("user", "root", "cannot be root"),
])
def test_bad_input_shows_inline_message_and_saves_nothing(qtbot, services: Services, field: str,  # type: ignore[no-untyped-def]
                                                          value: str, words: str) -> None:
    page = make_page(qtbot, services)
    fill(qtbot, page, "https://toy.example.com", "tok-123456")
    edit = editor(page, field)
    edit.clear()
    if value:
        qtbot.keyClicks(edit, value)
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert page.editor.form is not None
    label = page.editor.form.errors[field]
    assert label.isVisible() and words in label.text()
    assert page.count() == 0
    with services.store.session() as s:
        assert s.query(Connector).count() == 0
    assert page.editor.dirty  # the user's input is still there


def test_missing_name_and_secret(qtbot, services: Services, shot: Shot) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, services)
    qtbot.keyClicks(editor(page, "url"), "https://toy.example.com")
    qtbot.keyClicks(editor(page, "user"), "u")
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert page.editor.name_error.isVisible() and "Name is required" in page.editor.name_error.text()
    page.editor.name.setText("n")
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert page.editor.form is not None
    assert "API token is required" in page.editor.form.errors["token"].text()
    shot(page, "connector-form-errors")


def test_every_field_kind_has_an_editor(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, services)
    assert isinstance(editor(page, "page_size"), QSpinBox)
    assert isinstance(editor(page, "flavour"), QComboBox)
    network = page.editor.network
    assert network is not None and isinstance(network.editors["verify"], QCheckBox)
    network.editors["verify"].setChecked(False)
    network.changed.emit()
    assert page.editor.verify_warning.isVisibleTo(page)


def test_network_errors_are_inline(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, services)
    fill(qtbot, page, "https://toy.example.com", "tok-123456")
    network = page.editor.network
    assert network is not None
    network.editors["proxy_mode"].setCurrentText("This proxy")
    network.editors["ca_bundle"].setText("/nonexistent/ca.pem")
    qtbot.mouseClick(page.editor.save_btn, Qt.MouseButton.LeftButton)
    assert "Proxy URL" in network.errors["proxy_url"].text()
    assert "does not exist" in network.errors["ca_bundle"].text()
    assert page.editor.tabs.currentIndex() == 1
    assert page.count() == 0
