"""The import dialog asks for the proxy password of a connector behind an authenticated proxy (GUI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from almdesk.config import PROXY_PASSWORD
from almdesk.services import Services
from almdesk.transfer import export_config
from almdesk.ui import transfer_dialogs
from tests.toy import TOKEN
from tests.ui.test_dialogs import drive_modal

Shot = Callable[[QWidget, str], Path]
PROXY = {"proxy_mode": "explicit", "proxy_url": "http://proxy.example.com:3128", "proxy_user": "carol"}


def test_import_dialog_asks_for_the_proxy_password_and_stores_it_in_the_keyring(
        qtbot: QtBot, services: Services, tmp_path: Path, data_dir: Path, boxes: list[tuple[str, str]],
        shot: Shot) -> None:
    services.config.save_connector("Toy behind proxy", "toy", {"url": "https://toy.example.com", "user": "admin"},
                                   {"token": TOKEN, PROXY_PASSWORD: "proxy-pass-gui"}, PROXY)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export_config(services.config)), encoding="utf-8")
    other = Services.open(data_dir.parent / "other", registry=services.registry)
    try:
        tries: list[str] = []

        def fill(dialog: QDialog) -> bool:
            assert isinstance(dialog, transfer_dialogs.SecretsDialog)
            key = ("Toy behind proxy", PROXY_PASSWORD)
            assert key in dialog.edits
            labels = [w.text() for w in dialog.findChildren(QLabel)]
            assert "Proxy password *" in labels
            dialog.edits[("Toy behind proxy", "token")].setText(TOKEN)
            if not tries:  # first Import without the proxy password: refused in the dialog, nothing written
                tries.append("without")
                dialog.accept()
                return False
            if not dialog.error.isVisible() or "proxy_password" not in dialog.error.text():
                return False
            assert other.config.connectors() == []
            shot(dialog, "import_proxy_password")
            dialog.edits[key].setText("proxy-pass-gui")
            dialog.accept()
            return True

        _driver = drive_modal(qtbot, fill)
        assert transfer_dialogs.import_dialog(None, other, str(path)) is True
        settings = other.config.connector_settings("Toy behind proxy")
        assert settings.secret(PROXY_PASSWORD) == "proxy-pass-gui"
        assert "proxy-pass-gui" not in json.dumps(other.config.connector("Toy behind proxy").network)
    finally:
        for key in ("token", PROXY_PASSWORD):
            uid = other.config.connector("Toy behind proxy").uid if other.config.connectors() else ""
            if uid:
                other.secrets.delete(uid, key)
        other.close()
