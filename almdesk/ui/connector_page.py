"""Connectors: the list, the editor built from the system's fields, the Network tab, Test Connection."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import FieldErrors, parse_fields
from almdesk.config import NETWORK_FIELDS, ConnectorInfo
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.systems.base import Capability
from almdesk.ui.forms import ERROR_STYLE, FieldForm, confirm_discard
from almdesk.ui.runner import JobRunner
from almdesk.ui.steps import StepList

WARNING_STYLE = "background: #fff4ce; color: #5c4400; padding: 6px; border: 1px solid #e0c36b; border-radius: 4px;"


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


class ConnectorEditor(QWidget):
    """Edits one connector (new or saved).

    Signals: saved(int id), deleted(), dirty_changed(bool).
    """

    saved = Signal(int)
    deleted = Signal()
    dirty_changed = Signal(bool)

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.info: ConnectorInfo | None = None
        self.system_name = ""
        self.dirty = False
        self._test_handle: int | None = None
        self._fetch_handle: int | None = None

        self.name = QLineEdit()
        self.name.setObjectName("connector_name")
        self.name_error = QLabel()
        self.name_error.setStyleSheet(ERROR_STYLE)
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
        head.addRow("Name *", name_box)
        head.addRow("System", self.system)

        self.tabs = QTabWidget()
        self.verify_warning = QLabel("⚠ Certificate validation is OFF for this connector: anyone on the network "
                                     "path could read or change its traffic.")
        self.verify_warning.setObjectName("verify_warning")
        self.verify_warning.setWordWrap(True)
        self.verify_warning.setStyleSheet(WARNING_STYLE)
        self.verify_warning.hide()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.hide()

        self.save_btn = QPushButton("&Save")
        self.save_btn.setObjectName("save")
        self.save_btn.setDefault(True)
        self.save_btn.clicked.connect(self.save)
        self.test_btn = QPushButton("&Test Connection")
        self.test_btn.setObjectName("test")
        self.test_btn.clicked.connect(self.test)
        self.dup_btn = QPushButton("D&uplicate")
        self.dup_btn.clicked.connect(self.duplicate)
        self.del_btn = QPushButton("&Delete")
        self.del_btn.clicked.connect(self.delete)
        self.trust_btn = QPushButton("Trust this certificate…")
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
        ll.addLayout(buttons)
        self.steps = StepList()
        self.steps.action_bar.addWidget(self.trust_btn)
        self.steps.action_bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.steps)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 480])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.name.textEdited.connect(lambda _t: self._set_dirty(True))
        self._validate_timer = QTimer(self, singleShot=True, interval=400)
        self._validate_timer.timeout.connect(self._live_check)
        runner.job_event.connect(self._job_event)
        runner.finished.connect(self._job_finished)
        self.form: FieldForm | None = None
        self.network: FieldForm | None = None
        self._build_forms(self.system.currentData())

    # --- building ---------------------------------------------------------------------------
    def _build_forms(self, system_name: str) -> None:
        if not system_name or system_name == self.system_name:
            return
        self.system_name = system_name
        system = self.services.registry.get(system_name)
        self.tabs.clear()
        self.form = FieldForm(system.connector_fields)
        self.form.setObjectName("connector_form")
        self.form.changed.connect(lambda: self._set_dirty(True))
        self.form.changed.connect(self._validate_timer.start)
        self.network = FieldForm(NETWORK_FIELDS)
        self.network.setObjectName("network_form")
        self.network.changed.connect(lambda: self._set_dirty(True))
        self.network.changed.connect(self._update_verify_warning)
        self.tabs.addTab(scrolled(self.form), f"{system.label} settings")
        self.tabs.addTab(scrolled(self.network), "Network")
        self.form.set_values({})
        self.network.set_values({})
        if Capability.WORKSPACES in system.capabilities and "workspace" in self.form.editors:
            pick = QPushButton("Pick workspace after sign-in…")
            pick.setObjectName("pick_workspace")
            pick.clicked.connect(self.pick_workspace)
            self.form.layout_.addRow("", pick)

    def load(self, info: ConnectorInfo | None) -> None:
        self.info = info
        self.banner.hide()
        self.name_error.hide()
        self.system.setEnabled(info is None)
        if info is not None:
            self.system.setCurrentIndex(self.system.findData(info.system))
            self._build_forms(info.system)
            self.name.setText(info.name)
            stored = [k for k in info.secret_fields if self.services.secrets.get(info.uid, k)]
            assert self.form is not None and self.network is not None
            self.form.set_values(info.params, stored)
            self.network.set_values(info.network, stored)
        else:
            self.name.clear()
            assert self.form is not None and self.network is not None
            self.form.set_values({})
            self.network.set_values({})
        self.del_btn.setEnabled(info is not None)
        self.dup_btn.setEnabled(info is not None)
        self.steps.reset("Press Test Connection to check every step from DNS to permissions.")
        self._update_verify_warning()
        self._set_dirty(False)

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

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

    def save(self) -> bool:
        assert self.form is not None and self.network is not None
        name, params, secrets, network = self._collect()
        self.form.clear_errors()
        self.network.clear_errors()
        self.name_error.hide()
        self.banner.hide()
        try:
            cid = self.services.config.save_connector(name, self.system_name, params, secrets, network,
                                                      connector_id=self.info.id if self.info else None)
        except ConfigError as exc:
            self._show_error(exc)
            return False
        self.info = self.services.config.connector(cid)
        self.load(self.info)
        self.saved.emit(cid)
        return True

    def _show_error(self, exc: ConfigError) -> None:
        assert self.form is not None and self.network is not None
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
            self.banner.show()

    def test(self) -> None:
        """Save if needed (tests run on stored settings), then run Test Connection in the worker."""
        if (self.dirty or self.info is None) and not self.save():
            return
        assert self.info is not None
        self.steps.reset(f"Testing {self.info.name}…")
        self.trust_btn.hide()
        self.test_btn.setEnabled(False)
        self._test_handle = self.runner.submit(self.services.test_spec(connector=self.info.id))

    def _job_event(self, handle: int, ev: JobEvent) -> None:
        if handle == self._test_handle:
            self.steps.on_event(ev)

    def _job_finished(self, handle: int, result: JobResult | None) -> None:
        if handle == self._test_handle:
            self._test_handle = None
            self.test_btn.setEnabled(True)
            self.steps.on_finished(result)
            if result is not None and result.outcome.data.get("steps"):
                failed = next((s for s in result.outcome.data["steps"] if s["status"] == "failed"), None)
                if failed and failed.get("field") and self.form is not None and self.network is not None:
                    error = ConfigError(failed["detail"], failed.get("hint", ""), field=failed["field"])
                    if not self.form.show_error(error):
                        self.network.show_error(error)
                self.trust_btn.setVisible(bool(failed and failed["key"] == "tls"
                                               and failed.get("field") == "ca_bundle"))
        elif handle == self._fetch_handle:
            self._fetch_handle = None
            self.trust_btn.setEnabled(True)
            if result is not None and result.state == "succeeded":
                self._offer_trust(result.outcome.data["certificate"])
            elif result is not None:
                QMessageBox.warning(self, "Certificate", result.outcome.message)

    def trust_certificate(self) -> None:
        """Fetch the server's certificate in the worker, then ask before adding it to the CA bundle."""
        if self.info is None:
            return
        from almdesk.jobs.context import JobContext, JobOutcome
        from almdesk.jobs.record import JobSpec
        from almdesk.net.certs import fetch_certificate

        connector = self.services.config.connector_settings(self.info.id)
        url = self.services.registry.get(connector.system).base_url(connector)

        def fetch(_ctx: JobContext) -> JobOutcome:
            cert = fetch_certificate(url, connector.network).trust_anchor
            return JobOutcome(True, f"Fetched the certificate of {url}",
                              data={"certificate": {"pem": cert.pem, "summary": cert.summary(),
                                                    "sha256": cert.sha256, "subject": cert.subject}})

        self.trust_btn.setEnabled(False)
        self._fetch_handle = self.runner.submit(JobSpec("certificate", f"Fetch certificate of {url}", fetch,
                                                        connector_id=self.info.id))

    def _offer_trust(self, cert: dict[str, str]) -> None:
        from almdesk.net.certs import append_to_bundle, bundle_file

        assert self.info is not None and self.network is not None
        answer = QMessageBox.question(
            self, "Trust this certificate?",
            f"The server presented:\n\n{cert['summary']}\n\nCompare the SHA-256 fingerprint with the one "
            f"your server's admin gives you. Trust it for connector {self.info.name!r} only?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        current = self.network.values().get("ca_bundle", "")
        path = append_to_bundle(cert["pem"], bundle_file(self.services.paths.certs, self.info.uid),
                                existing=current)
        self.network.set_value("ca_bundle", str(path))
        self._set_dirty(True)
        if self.save():
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
        self.banner.setText("This is an unsaved copy; secrets are not copied — enter them, then Save.")
        self.banner.setStyleSheet("")
        self.banner.show()
        assert self.form is not None
        self.form.set_values(info.params)
        self._set_dirty(True)

    def delete(self) -> None:
        if self.info is None:
            return
        answer = QMessageBox.question(self, "Delete connector",
                                      f"Delete connector {self.info.name!r} and its secrets from the keyring?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.services.config.delete_connector(self.info.id)
        except ConfigError as exc:
            self.banner.setText(str(exc))
            self.banner.show()
            return
        self.load(None)
        self.deleted.emit()

    def pick_workspace(self) -> None:
        if self.info is None and not self.save():
            return
        if self.dirty and not self.save():
            return
        from almdesk.ui.workspace_picker import pick_workspace

        assert self.info is not None and self.form is not None
        chosen = pick_workspace(self, self.services, self.runner, self.info.id)
        if chosen and "workspace" in self.form.editors:
            self.form.set_value("workspace", chosen)
            self._set_dirty(True)


class ConnectorPage(QWidget):
    """List of connectors + editor. Signals: changed() after a save or delete."""

    changed = Signal()

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QTreeWidget()
        self.list.setObjectName("connector_list")
        self.list.setHeaderLabels(["Connector", "System"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 150)
        self.editor = ConnectorEditor(services, runner)
        self.editor.saved.connect(self._saved)
        self.editor.deleted.connect(self.reload)
        self.editor.deleted.connect(self.changed)
        self.list.currentItemChanged.connect(self._selected)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self.editor)
        split.setStretchFactor(1, 4)
        split.setSizes([240, 860])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._guard = False
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self._guard = True
        self.list.clear()
        for info in self.services.config.connectors():
            item = QTreeWidgetItem([info.name, self.services.registry.get(info.system).label])
            item.setToolTip(0, info.name)
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            self.list.addTopLevelItem(item)
            if info.id == select_id:
                self.list.setCurrentItem(item)
        self._guard = False
        if (select_id is None and (first := self.list.topLevelItem(0)) is not None and self.editor.info is None
                and not self.editor.dirty):
            self.list.setCurrentItem(first)

    def count(self) -> int:
        return self.list.topLevelItemCount()

    def select_row(self, row: int) -> None:
        item = self.list.topLevelItem(row)
        if item is not None:
            self.list.setCurrentItem(item)

    def new(self, system: str | None = None) -> None:
        if not self.confirm_discard():
            return
        self.list.clearSelection()
        self.editor.load(None)
        if system:
            self.editor.system.setCurrentIndex(self.editor.system.findData(system))
        self.editor.name.setFocus()

    def _selected(self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None) -> None:
        if self._guard or current is None:
            return
        if not self.confirm_discard():
            self._guard = True
            if previous is None:
                self.list.setCurrentIndex(QModelIndex())  # back to no current item
            else:
                self.list.setCurrentItem(previous)
            self._guard = False
            return
        self.editor.load(self.services.config.connector(int(current.data(0, Qt.ItemDataRole.UserRole))))

    def confirm_discard(self) -> bool:
        return confirm_discard(self, "connector", self.editor.dirty, self.editor.save)

    def _saved(self, cid: int) -> None:
        self.reload(cid)
        self.changed.emit()
