"""The Create Defect dialog: name, description, release, severity, phase (and workspace on a connector).

Create submits ``services.defect_spec`` to the runner; the created item's ID and a clickable link
are shown, or the error under the input it names (unknown release, severity…).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.errors import ConfigError
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.systems.base import DefectRequest
from almdesk.ui.dialogs import TargetBox, UrlOpener, error_label, show_error, split_message, with_error
from almdesk.ui.runner import JobRunner

FIELDS = ("target", "workspace", "name", "description", "release", "severity", "phase")
OK_STYLE = "background: #e6f4ea; color: #0d5223; padding: 8px; border: 1px solid #8cc79f; border-radius: 4px;"


class DefectDialog(QDialog):
    """Creates one defect (or issue) on a connection or a connector + workspace."""

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None = None,
                 connector_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.handle: int | None = None
        self.job_result: JobResult | None = None
        self.url = ""
        self.noun = "defect"
        self.opener: UrlOpener = QDesktopServices.openUrl
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Create defect")
        self.target = TargetBox(services, runner, connection_id, connector_id)
        self.name = QLineEdit()
        self.name.setPlaceholderText("a short summary of the problem")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("What happened, what was expected, how to reproduce it")
        self.description.setMinimumHeight(110)
        self.release = QLineEdit()
        self.release.setPlaceholderText("release name (optional)")
        self.severity = QLineEdit()
        self.severity.setPlaceholderText("e.g. High (optional)")
        self.phase = QLineEdit()
        self.phase.setPlaceholderText("e.g. New (optional; the server's default otherwise)")
        self.inputs: dict[str, QWidget] = {"target": self.target.combo, "workspace": self.target.workspace,
                                           "name": self.name, "description": self.description,
                                           "release": self.release, "severity": self.severity, "phase": self.phase}
        for key, widget in self.inputs.items():
            widget.setObjectName(f"defect_{key}")
        self.errors: dict[str, QLabel] = {name: error_label(f"error_{name}") for name in FIELDS}
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.addRow("Create on", with_error(self.target, self.errors["target"]))
        self.workspace_box = with_error(self.target.workspace_row, self.errors["workspace"])
        self.form.addRow("Workspace", self.workspace_box)
        self.form.addRow("Name *", with_error(self.name, self.errors["name"]))
        self.form.addRow("Description", with_error(self.description, self.errors["description"]))
        self.form.addRow("Release", with_error(self.release, self.errors["release"]))
        self.form.addRow("Severity", with_error(self.severity, self.errors["severity"]))
        self.form.addRow("Phase", with_error(self.phase, self.errors["phase"]))
        self.target.changed.connect(self._target_changed)
        self.error = error_label("defect_error")
        self.status = QLabel()
        self.status.setObjectName("defect_status")
        self.status.setWordWrap(True)
        self.created = QLabel()
        self.created.setObjectName("defect_created")
        self.created.setWordWrap(True)
        self.created.setStyleSheet(OK_STYLE)
        self.created.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.created.setOpenExternalLinks(False)
        self.created.linkActivated.connect(lambda url: self.opener(QUrl(url)))
        self.created.hide()
        self.create_btn = QPushButton("C&reate")
        self.create_btn.setObjectName("create_defect")
        self.create_btn.setDefault(True)
        self.create_btn.clicked.connect(self.submit)
        close_btn = QPushButton("Close")
        close_btn.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.create_btn)
        buttons.addWidget(close_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addWidget(self.created)
        lay.addLayout(buttons)
        self.resize(620, 520)
        self._target_changed()
        runner.finished.connect(self._finished)
        self._attached = True
        if self.target.empty():
            self.create_btn.setEnabled(False)
            show_error(self.error, "There is no connector or connection to create a defect on.",
                       "Create a connector (and a connection) first, or try the sandbox.")

    def _target_changed(self) -> None:
        _connection, connector = self.target.ids()
        self.form.setRowVisible(self.workspace_box, connector is not None)
        label = self.form.labelForField(self.workspace_box)
        if isinstance(label, QLabel):
            label.setText(self.target.workspace_label())
        system = self.target.system_name()
        self.noun = self.services.registry.get(system).item_noun if system else "defect"
        self.setWindowTitle(f"Create {self.noun}")
        self.create_btn.setText(f"C&reate {self.noun}")

    def request(self) -> DefectRequest:
        return DefectRequest(name=self.name.text().strip(), description=self.description.toPlainText().strip(),
                             release=self.release.text().strip(), severity=self.severity.text().strip(),
                             phase=self.phase.text().strip(), workspace=self.target.workspace_value())

    def clear_errors(self) -> None:
        for label in (*self.errors.values(), self.error):
            show_error(label, "")

    def show_failure(self, message: str, hint: str = "", field: str | None = None) -> None:
        name = self.target.input_for(field)
        name = {"summary": "name", "title": "name", "severities": "severity", "phases": "phase"}.get(name, name)
        if name not in self.errors and field:
            message += f" (setting {field})"
        show_error(self.errors.get(name, self.error), message, hint)
        widget = self.inputs.get(name)
        if widget is not None:
            widget.setFocus()

    def submit(self) -> int | None:
        self.clear_errors()
        self.created.hide()
        request = self.request()
        if not request.name:
            self.show_failure("Name is required.", "Give the defect a short summary.", "name")
            return None
        connection, connector = self.target.ids()
        try:
            spec = self.services.defect_spec(request, connection=connection, connector=connector)
        except ConfigError as exc:
            self.show_failure(exc.message, exc.hint, exc.field)
            return None
        self.status.setText("Creating…")
        self.create_btn.setEnabled(False)
        self.handle = self.runner.submit(spec)
        return self.handle

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self.handle:
            return
        self.handle = None
        self.job_result = result
        self.create_btn.setEnabled(True)
        if result is None or result.state == "cancelled":
            self.status.setText("Cancelled.")
            return
        data = result.outcome.data
        if result.state != "succeeded":
            hint = str(data.get("hint") or "")
            self.status.setText("Not created.")
            self.show_failure(split_message(result.outcome.message, hint), hint, data.get("field"))
            return
        self.status.setText("")
        self.url = str(data.get("url") or "")
        key = html.escape(str(data.get("key") or data.get("id") or ""))
        link = f'<a href="{html.escape(self.url, quote=True)}">{html.escape(self.url)}</a>' if self.url else ""
        ident = str(data.get("id") or "")
        also = f" (ID {html.escape(ident)})" if ident and html.escape(ident) != key else ""
        self.created.setText(f"✔ Created {html.escape(self.noun)} <b>{key}</b>{also}<br>{link}")
        self.created.show()

    def open_created(self) -> None:
        if self.url:
            self.opener(QUrl(self.url))

    def done(self, code: int) -> None:
        if self._attached:
            self._attached = False
            self.runner.finished.disconnect(self._finished)
        super().done(code)
