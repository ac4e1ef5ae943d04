"""The Create Defect dialog: name, description, release, severity, phase (and workspace on a connector).

Create submits ``services.defect_spec`` to the runner; the created item's ID and a clickable link
are shown, or the error under the input it names (unknown release, severity…).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.records import DefectRequest
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.ui.dialogs import TargetJobDialog, UrlOpener
from almdesk.ui.runner import JobRunner

FIELDS = ("target", "workspace", "name", "description", "release", "severity", "phase")
OK_STYLE = "background: #e6f4ea; color: #0d5223; padding: 8px; border: 1px solid #8cc79f; border-radius: 4px;"


class DefectDialog(TargetJobDialog):
    """Creates one defect (or issue) on a connection or a connector + workspace."""

    FIELD_ALIASES = {"summary": "name", "title": "name", "severities": "severity", "phases": "phase"}

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None = None,
                 connector_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, connection_id, connector_id, parent, prefix="defect", fields=FIELDS,
                         target_label="Create on", label_alignment=Qt.AlignmentFlag.AlignTop)
        self.url = ""
        self.noun = "defect"
        self.opener: UrlOpener = QDesktopServices.openUrl
        self.setWindowTitle("Create defect")
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
        self.add_input("Name *", "name", self.name)
        self.add_input("Description", "description", self.description)
        self.add_input("Release", "release", self.release)
        self.add_input("Severity", "severity", self.severity)
        self.add_input("Phase", "phase", self.phase)
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
        self.start(self.create_btn, "create a defect on")

    def _target_changed(self) -> None:
        super()._target_changed()
        system = self.target.system_name()
        self.noun = self.services.registry.get(system).item_noun if system else "defect"
        self.setWindowTitle(f"Create {self.noun}")
        self.create_btn.setText(f"C&reate {self.noun}")

    def request(self) -> DefectRequest:
        return DefectRequest(name=self.name.text().strip(), description=self.description.toPlainText().strip(),
                             release=self.release.text().strip(), severity=self.severity.text().strip(),
                             phase=self.phase.text().strip(), workspace=self.target.workspace_value())

    def submit(self) -> int | None:
        self.created.hide()
        request = self.request()
        if not request.name:
            self.clear_errors()
            self.show_failure("Name is required.", "Give the defect a short summary.", "name")
            return None
        spec = self.make_spec(lambda connection, connector: self.services.defect_spec(
            request, connection=connection, connector=connector))
        if spec is None:
            return None
        self.status.setText("Creating…")
        self.set_running(True)
        self.handle = self.runner.submit(spec)
        return self.handle

    def set_running(self, running: bool) -> None:
        self.create_btn.setEnabled(not running)

    def job_done(self, result: JobResult) -> None:
        data = result.outcome.data
        if result.state != "succeeded":
            self.job_failed(result, "Not created.")
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
