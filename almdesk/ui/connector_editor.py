"""The connector editor: the form built from the system's fields, the Network tab, Test Connection.

Test Connection tests the form as seen (typed, unsaved secrets included: ``Config.draft_connector``)
and saves nothing; Save is the only thing that writes. Ctrl+S saves, Esc reverts a dirty form to the
stored settings.

Keyboard: Tab goes name, system, the tab's fields, Test / Duplicate / Delete / Save, the step list, the
tab bar (Ctrl+Tab switches tabs too); every label and button has a mnemonic.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import FieldErrors, parse_fields
from almdesk.base.settings import ConnectorSettings
from almdesk.config import NETWORK_FIELDS, ConnectorInfo
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.services.choices import ChoiceQuery
from almdesk.systems.base import Capability
from almdesk.ui.editor_base import SettingsEditor
from almdesk.ui.field_editors import Pickers
from almdesk.ui.forms import FieldForm
from almdesk.ui.forms import scrolled as scrolled  # re-exported: the connector page imports it from here
from almdesk.ui.keyboard import buddy_label, chain_focus, with_mnemonic
from almdesk.ui.runner import JobRunner
from almdesk.ui.steps import StepList
from almdesk.ui.theme import color_css, notice_css
from almdesk.ui.workspace_location import with_workspace

IDLE_TEXT = "Press Test Connection to check every step from DNS to permissions."
STALE_TEXT = "The settings changed since the last test: press Test Connection to check them as they are now."


class ConnectorEditor(SettingsEditor):
    """Edits one connector (new or saved). Signals: those of :class:`SettingsEditor`."""

    MNEMONICS = frozenset("nystufdc")  # Name, System, Save, Test, Duplicate, certiFicate, Delete, Copy

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.info: ConnectorInfo | None = None
        self.system_name = ""
        self.result_shown = False  # the step list shows a finished test's verdict
        self._test_handle: int | None = None
        self._fetch_handle: int | None = None

        self.name = QLineEdit()
        self.name.setObjectName("connector_name")
        self.name_error = QLabel()
        self.name_error.setStyleSheet(color_css("failed"))
        self.name_error.hide()
        self.system = QComboBox()
        self.system.setObjectName("connector_system")
        for sys_ in services.registry:
            self.system.addItem(sys_.label, sys_.name)
        self.system.currentIndexChanged.connect(lambda _i: self._build_forms(self.system.currentData()))
        head = QFormLayout()
        name_box = QWidget()
        nb = QVBoxLayout(name_box)
        nb.setContentsMargins(0, 0, 0, 0)
        nb.setSpacing(2)
        nb.addWidget(self.name)
        nb.addWidget(self.name_error)
        head.addRow(buddy_label("&Name *", self.name), name_box)
        head.addRow(buddy_label("S&ystem", self.system), self.system)

        self.tabs = QTabWidget()
        self.verify_warning = QLabel("⚠ Certificate validation is OFF for this connector: anyone on the network "
                                     "path could read or change its traffic.")
        self.verify_warning.setObjectName("verify_warning")
        self.verify_warning.setWordWrap(True)
        self.verify_warning.setStyleSheet(notice_css("warning"))
        self.verify_warning.hide()
        self.banner = QLabel()
        self.banner.setObjectName("connector_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(color_css("failed"))
        self.banner.hide()
        self.notice = QLabel()  # "Saved connector X." after a save, until the next edit
        self.notice.setObjectName("connector_notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.save_btn = QPushButton("&Save")
        self.save_btn.setObjectName("save")
        self.save_btn.setDefault(True)
        self.save_btn.setToolTip("Save the connector (Ctrl+S)")
        self.save_btn.clicked.connect(self.save)
        self.test_btn = QPushButton("&Test Connection")
        self.test_btn.setObjectName("test")
        self.test_btn.setToolTip("Test the settings as they are in the form, without saving them")
        self.test_btn.clicked.connect(self.test)
        self.dup_btn = QPushButton("D&uplicate")
        self.dup_btn.setObjectName("duplicate")
        self.dup_btn.clicked.connect(self.duplicate)
        self.del_btn = QPushButton("&Delete")
        self.del_btn.setObjectName("delete")
        self.del_btn.clicked.connect(self.delete)
        self.trust_btn = QPushButton("Trust this certi&ficate…")
        self.trust_btn.setObjectName("trust_certificate")
        self.trust_btn.setToolTip("Show the server's certificate and, if you recognise it, add it to this "
                                  "connector's CA bundle")
        self.trust_btn.clicked.connect(self.trust_certificate)
        self.trust_btn.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_btn)
        buttons.addStretch(1)
        for b in (self.dup_btn, self.del_btn, self.save_btn):
            buttons.addWidget(b)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(head)
        ll.addWidget(self.verify_warning)
        ll.addWidget(self.tabs, 1)
        ll.addWidget(self.banner)
        ll.addWidget(self.notice)
        ll.addLayout(buttons)
        self.steps = StepList()
        self.steps.action_bar.addWidget(self.trust_btn)
        self.steps.action_bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.steps)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([470, 530])  # the step list wraps less
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.name.textEdited.connect(lambda _t: self._edited())
        self._validate_timer = QTimer(self, singleShot=True, interval=400)
        self._validate_timer.timeout.connect(self._live_check)
        runner.job_event.connect(self._job_event)
        runner.finished.connect(self._job_finished)
        self.install_keys()
        self.form: FieldForm | None = None
        self.network: FieldForm | None = None
        self._build_forms(self.system.currentData())

    # --- building ---------------------------------------------------------------------------
    def _build_forms(self, system_name: str) -> None:
        if not system_name or system_name == self.system_name:
            return
        self.system_name = system_name
        system = self.services.registry.get(system_name)
        for page in [self.tabs.widget(i) for i in range(self.tabs.count())]:
            if page is not None:
                page.deleteLater()  # the old system's forms go (and leave the Tab chain)
        self.tabs.clear()
        query = ChoiceQuery(self.services, system, self._as_given, lambda: self.form.values() if self.form else {})
        self.form = FieldForm(system.connector_fields, pickers=Pickers(self.runner, query), taken=self.MNEMONICS)
        self.form.setObjectName("connector_form")
        self.form.changed.connect(self._edited)
        self.form.changed.connect(self._validate_timer.start)
        self.network = FieldForm(NETWORK_FIELDS, taken=self.MNEMONICS)
        self.network.setObjectName("network_form")
        self.network.changed.connect(self._edited)
        self.network.changed.connect(self._update_verify_warning)
        self.tabs.addTab(scrolled(self.form), f"{system.label} settings")
        self.tabs.addTab(scrolled(self.network), "Network")
        self.form.set_values({})
        self.network.set_values({})
        if Capability.WORKSPACES in system.capabilities and "workspace" in self.form.editors:
            pick = QPushButton(with_mnemonic("Pick workspace after sign-in…", self.form.taken))
            pick.setObjectName("pick_workspace")
            pick.clicked.connect(self.pick_workspace)
            self.form.layout_.addRow("", pick)
        chain_focus(self.tab_stops())

    def tab_stops(self) -> list[QWidget]:
        """Tab follows the form: name, system, fields, the buttons, the step list, the tab bar."""
        assert self.form is not None and self.network is not None
        return [self.name, self.system, *self.form.focus_widgets(), *self.network.focus_widgets(),
                self.test_btn, self.dup_btn, self.del_btn, self.save_btn, self.steps, self.tabs.tabBar()]

    def load(self, info: ConnectorInfo | None) -> None:
        self.info = info
        self.banner.hide()
        self.notice.hide()
        self.name_error.hide()
        self.system.setEnabled(info is None)
        if info is not None:
            self.system.setCurrentIndex(self.system.findData(info.system))
            self._build_forms(info.system)
            self.name.setText(info.name)
            stored = self.services.config.stored_secrets(info)
            assert self.form is not None and self.network is not None
            self.form.set_values(info.params, stored)
            self.network.set_values(info.network, stored)
        else:
            self.name.clear()
            assert self.form is not None and self.network is not None
            self.form.set_values({})
            self.network.set_values({})
        assert self.form is not None and self.network is not None
        self.form.clear_errors()
        self.network.clear_errors()
        self.del_btn.setEnabled(info is not None)
        self.dup_btn.setEnabled(info is not None)
        self.steps.reset(IDLE_TEXT)
        self.result_shown = False
        self.trust_btn.hide()
        self._update_verify_warning()
        self._set_dirty(False)

    def stored(self) -> ConnectorInfo | None:
        return self.services.config.connector(self.info.id) if self.info else None

    def _edited(self) -> None:
        """A field changed: the form is dirty, an old confirmation or test verdict no longer holds."""
        self._set_dirty(True)
        self.notice.hide()
        self._stale()

    def _stale(self) -> None:
        if self.result_shown and self._test_handle is None:
            self.steps.reset(STALE_TEXT)
            self.result_shown = False
            self.trust_btn.hide()

    def _update_verify_warning(self) -> None:
        verify = self.network.values().get("verify", True) if self.network else True
        self.verify_warning.setVisible(not verify)

    def _live_check(self) -> None:
        """Validate typed values as the user pauses, and fill derived fields (e.g. Octane Location)."""
        if self.form is None:
            return
        system = self.services.registry.get(self.system_name)
        raw = {k: v for k, v in self.form.values().items() if v not in ("", None)}
        self.form.clear_errors()
        try:
            parsed = system.check_connector(parse_fields(system.connector_fields, raw, partial=True))
        except ConfigError as exc:
            if exc.field in raw or isinstance(exc, FieldErrors):
                if isinstance(exc, FieldErrors):
                    exc = FieldErrors({k: e for k, e in exc.errors.items() if k in raw})
                    if not exc.errors:
                        return
                self.form.show_error(exc)
                self._stale()
            return
        current = self.form.values()
        for key, value in parsed.items():
            if key not in raw and value not in (None, "") and current.get(key) in ("", None):
                self.form.set_value(key, value)

    # --- actions ----------------------------------------------------------------------------
    def _collect(self) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any]]:
        assert self.form is not None and self.network is not None
        return self.name.text(), self.form.values(), {**self.form.secrets(), **self.network.secrets()}, \
            self.network.values()

    def _clear_errors(self) -> None:
        assert self.form is not None and self.network is not None
        self.form.clear_errors()
        self.network.clear_errors()
        self.name_error.hide()
        self.banner.hide()

    def save(self) -> bool:
        name, params, secrets, network = self._collect()
        self._clear_errors()
        try:
            cid = self.services.config.save_connector(name, self.system_name, params, secrets, network,
                                                      connector_id=self.info.id if self.info else None)
        except ConfigError as exc:
            self._show_error(exc)
            return False
        self.info = self.services.config.connector(cid)
        self.load(self.info)
        text = f"Saved connector {self.info.name}."
        self.notice.setText("✔ " + text)
        self.notice.setStyleSheet(color_css("ok"))
        self.notice.show()
        self.saved.emit(cid)
        self.message.emit(text)
        return True

    def _show_error(self, exc: ConfigError) -> None:
        assert self.form is not None and self.network is not None
        self._stale()
        self.notice.hide()
        errors = exc.errors if isinstance(exc, FieldErrors) else {exc.field or "": exc}
        unplaced = []
        for key, err in errors.items():
            if key == "name":
                self.name_error.setText(f"{err.message} {err.hint}")
                self.name_error.show()
            elif key in self.network.editors:
                self.network.show_error(err)
                self.tabs.setCurrentIndex(1)
            elif not self.form.show_error(err):
                unplaced.append(str(err))
        if any(k in self.form.editors for k in errors):
            self.tabs.setCurrentIndex(0)
        if unplaced:
            self.banner.setText("\n".join(unplaced))
            self.banner.setStyleSheet(color_css("failed"))
            self.banner.show()

    def _as_given(self) -> ConnectorSettings:
        """The form's settings for a picker's query (a ConfigError is shown under the field asked)."""
        name, params, secrets, network = self._collect()
        return self.services.config.draft_connector(self.info.id if self.info else None, self.system_name,
                                                    params, secrets, network, name=name)

    def draft(self) -> ConnectorSettings | None:
        """The form's current values as settings (secrets left blank: the keyring's), or None after
        showing why they are not valid. Saves nothing."""
        name, params, secrets, network = self._collect()
        self._clear_errors()
        try:
            return self.services.config.draft_connector(self.info.id if self.info else None, self.system_name,
                                                        params, secrets, network, name=name)
        except ConfigError as exc:
            self._show_error(exc)
            return None

    def test(self) -> None:
        """Test Connection on the form as seen, in the worker; nothing is saved."""
        if self._test_handle is not None:
            return
        draft = self.draft()
        if draft is None:
            return
        self.steps.reset(f"Testing {draft.name}…")
        self.result_shown = False
        self.trust_btn.hide()
        self.test_btn.setEnabled(False)
        self._test_handle = self.runner.submit(self.services.test_spec(connector=draft))

    def _job_event(self, handle: int, ev: JobEvent) -> None:
        if handle == self._test_handle:
            self.steps.on_event(ev)

    def _job_finished(self, handle: int, result: JobResult | None) -> None:
        if handle == self._test_handle:
            self._test_handle = None
            self.test_btn.setEnabled(True)
            self.steps.on_finished(result)
            self.result_shown = True
            if result is None:
                return
            failed = next((s for s in result.outcome.steps if s.status == "failed"), None)
            failure = result.outcome.failure
            if failure is not None and failure.field and failed is not None \
                    and self.form is not None and self.network is not None:
                error = ConfigError(failed.detail, failure.hint, field=failure.field)
                if not self.form.show_error(error):
                    self.network.show_error(error)
            self.trust_btn.setVisible(bool(failed and failed.key == "tls" and failed.field == "ca_bundle"))
        elif handle == self._fetch_handle:
            self._fetch_handle = None
            self.trust_btn.setEnabled(True)
            if result is not None and result.state == "succeeded":
                self._offer_trust(result.outcome.data["certificate"])
            elif result is not None:
                QMessageBox.warning(self, "Certificate", result.outcome.message)

    def trust_certificate(self) -> None:
        """Fetch the server's certificate (of the form's address) in the worker, then ask before adding
        it to the CA bundle. The bundle belongs to a saved connector: a new one is saved first."""
        if self.info is None and not self.save():
            return
        connector = self.draft()
        if connector is None:
            return
        from almdesk.services.certs import certificate_spec

        self.trust_btn.setEnabled(False)
        self._fetch_handle = self.runner.submit(certificate_spec(self.services, connector))

    def _offer_trust(self, cert: dict[str, str]) -> None:
        from almdesk.ui.cert_trust import offer_trust

        assert self.info is not None and self.network is not None
        path = offer_trust(self, self.services, self.info.name, self.info.uid, cert,
                           self.network.values().get("ca_bundle", ""))
        if path is None:
            return
        self.network.set_value("ca_bundle", path)
        self._set_dirty(True)
        if self.save():  # trusting is a decision the user just confirmed: it is kept
            self.trust_btn.hide()
            self.test()

    def duplicate(self) -> None:
        if self.info is None:
            return
        info = self.info
        self.info = None
        self.name.setText(f"{info.name} (copy)")
        self.del_btn.setEnabled(False)
        self.dup_btn.setEnabled(False)
        self.notice.hide()
        self.banner.setText("This is an unsaved copy; secrets are not copied — enter them, then Save.")
        self.banner.setStyleSheet("")
        self.banner.show()
        assert self.form is not None
        self.form.set_values(info.params)
        self._set_dirty(True)

    def delete(self) -> None:
        """Delete the connector after asking (No is the default); a connector that connections use is
        not offered for deletion: the editor says which connections use it."""
        if self.info is None:
            return
        try:
            info = self.services.config.connector(self.info.id)
        except ConfigError:
            self.load(None)
            self.deleted.emit()
            return
        if info.connections:
            QMessageBox.information(self, "Connector in use",
                                    f"Connector {info.name!r} is used by connection(s) "
                                    f"{', '.join(info.connections)}. Delete those connections or move them to "
                                    "another connector first; nothing was deleted.")
            return
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Delete connector",
                                      f"Delete connector {info.name!r} and its secrets from the keyring?",
                                      buttons.Yes | buttons.No, buttons.No)
        if answer != buttons.Yes:
            return
        try:
            self.services.config.delete_connector(info.id)
        except ConfigError as exc:
            self.banner.setText(str(exc))
            self.banner.show()
            return
        self.load(None)
        self.deleted.emit()
        self.message.emit(f"Deleted connector {info.name}.")

    def pick_workspace(self) -> None:
        """Pick a workspace after sign-in (the picker signs in with the stored settings: they are saved
        first); a Location naming a workspace is updated to the one picked."""
        if (self.info is None or self.dirty) and not self.save():
            return
        from almdesk.ui.workspace_picker import pick_workspace

        assert self.info is not None and self.form is not None
        chosen = pick_workspace(self, self.services, self.runner, self.info.id)
        if chosen and "workspace" in self.form.editors:
            self.form.set_value("workspace", chosen)
            if "location" in self.form.editors:
                location = str(self.form.values().get("location") or "")
                self.form.set_value("location", with_workspace(location, chosen))
            self._edited()
