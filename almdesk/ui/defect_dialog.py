"""The Create Defect dialog: name, description, release, severity, phase (and workspace on a connector).

Create submits ``services.defect_spec`` to the runner; the created item (the job's typed ``payload``, a
:class:`~almdesk.base.records.CreatedItem`) is shown with its link, Copy link and Open, or the error
under the input it names (unknown release, severity…).

One defect per submit: Create is disabled while the job runs and after it succeeded (a second Enter
or click does nothing; "Create another" clears the form for a new one). Each form content gets an
idempotency key, the same on a retry after a failure, so a retry returns the item an earlier attempt
with that key recorded instead of creating a second (:func:`almdesk.services.actions.defect_job`).
On ALM Octane the dialog says the new defect is a draft (phase New).

Keyboard: Tab goes down the form (Tab leaves Description; it does not insert a tab), then the result's
Copy link / Open, Create another, Create, Close. Enter in a one-line input presses Create; in
Description Enter inserts a line and Ctrl+Enter creates.
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.records import CreatedItem, DefectRequest
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.ui import theme
from almdesk.ui.icons import icon
from almdesk.ui.link_actions import UrlOpener, copy_link, open_link
from almdesk.ui.runner import JobRunner
from almdesk.ui.target_dialog import TargetJobDialog

FIELDS = ("target", "workspace", "name", "description", "release", "severity", "phase")
# systems whose new defects are drafts, and how the dialog says it
DRAFT_NOTES = {"octane": "In ALM Octane a new defect is a draft (phase New) until it is completed and "
                         "moved on in Octane."}


class DefectDialog(TargetJobDialog):
    """Creates one defect (or issue) on a connection or a connector + workspace."""

    FIELD_ALIASES = {"summary": "name", "title": "name", "severities": "severity", "phases": "phase"}

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None = None,
                 connector_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, connection_id, connector_id, parent, prefix="defect", fields=FIELDS,
                         target_label="Create on", label_alignment=Qt.AlignmentFlag.AlignTop)
        self.url = ""
        self.noun = "defect"
        self.item: CreatedItem | None = None  # what the last job created (the form is done)
        self.idempotency_key = ""
        self._key_for: tuple[object, ...] | None = None  # the form content the key was made for
        self.opener: UrlOpener = QDesktopServices.openUrl
        self.setWindowTitle("Create defect")
        self.name = QLineEdit()
        self.name.setPlaceholderText("a short summary of the problem")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("What happened, what was expected, how to reproduce it")
        self.description.setMinimumHeight(110)
        self.description.setTabChangesFocus(True)
        self.description.setToolTip("Enter starts a new line; Ctrl+Enter creates the defect.")
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
        self.created.setStyleSheet(theme.notice_css("ok"))
        self.created.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.created.setOpenExternalLinks(False)
        self.created.linkActivated.connect(lambda url: open_link(self, url, self.opener))
        self.copy_btn = QPushButton(icon("copy"), "&Copy link")
        self.copy_btn.setObjectName("defect_copy_link")
        self.copy_btn.clicked.connect(lambda: copy_link(self.url))
        self.open_btn = QPushButton(icon("link"), "&Open")
        self.open_btn.setObjectName("defect_open_link")
        self.open_btn.clicked.connect(self.open_created)
        self.another_btn = QPushButton(icon("add"), "Create &another")
        self.another_btn.setObjectName("defect_another")
        self.another_btn.setToolTip("Clear the name and description for a new one (the target and fields stay).")
        self.another_btn.clicked.connect(self.another)
        self.result_box = QWidget()
        rl = QHBoxLayout(self.result_box)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.created, 1)
        links = QVBoxLayout()
        links.addWidget(self.copy_btn)
        links.addWidget(self.open_btn)
        links.addStretch(1)
        rl.addLayout(links)
        self.result_box.hide()
        self.draft_note = QLabel()
        self.draft_note.setObjectName("defect_draft_note")
        self.draft_note.setWordWrap(True)
        self.draft_note.setStyleSheet(theme.color_css("muted"))
        self.create_btn = QPushButton(icon("defect"), "C&reate")
        self.create_btn.setObjectName("create_defect")
        self.create_btn.setDefault(True)
        self.create_btn.clicked.connect(self.submit)
        self.close_btn = QPushButton("C&lose")
        self.close_btn.setObjectName("defect_close")
        self.close_btn.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.another_btn)
        buttons.addWidget(self.create_btn)
        buttons.addWidget(self.close_btn)
        self.another_btn.hide()
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.draft_note)
        lay.addWidget(self.error)
        lay.addWidget(self.result_box)
        lay.addLayout(buttons)
        self.resize(620, 520)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.create_btn.click)  # nothing while Create is off
        self.start(self.create_btn, "create a defect on")

    def focus_order(self) -> list[QWidget]:
        return [self.copy_btn, self.open_btn, self.another_btn, self.create_btn, self.close_btn]

    def _target_changed(self) -> None:
        super()._target_changed()
        system = self.target.system_name()
        self.noun = self.services.registry.get(system).item_noun if system else "defect"
        self.setWindowTitle(f"Create {self.noun}")
        self.create_btn.setText(f"C&reate {self.noun}")
        self.draft_note.setText(DRAFT_NOTES.get(system, ""))
        self.draft_note.setVisible(bool(self.draft_note.text()))

    def request(self) -> DefectRequest:
        return DefectRequest(name=self.name.text().strip(), description=self.description.toPlainText().strip(),
                             release=self.release.text().strip(), severity=self.severity.text().strip(),
                             phase=self.phase.text().strip(), workspace=self.target.workspace_value())

    def key_for(self, request: DefectRequest) -> str:
        """The idempotency key of this form content: kept while it stays the same (a retry), new otherwise."""
        content = (self.target.ids(), request)
        if content != self._key_for or not self.idempotency_key:
            self._key_for, self.idempotency_key = content, uuid.uuid4().hex
        return self.idempotency_key

    def submit(self) -> int | None:
        """Create the defect; nothing while one is being created or after it was (one defect per form)."""
        if self.handle is not None or self.item is not None:
            return None
        self.result_box.hide()
        request = self.request()
        if not request.name:
            self.clear_errors()
            self.show_failure("Name is required.", "Give the defect a short summary.", "name")
            return None
        key = self.key_for(request)
        spec = self.make_spec(lambda connection, connector: self.services.defect_spec(
            request, connection=connection, connector=connector, idempotency_key=key))
        if spec is None:
            return None
        self.status.setText("Creating…")
        self.set_running(True)
        self.handle = self.runner.submit(spec)
        return self.handle

    def set_running(self, running: bool) -> None:
        self.create_btn.setEnabled(not running and self.item is None)

    def job_done(self, result: JobResult) -> None:
        item = result.outcome.payload
        if result.state != "succeeded" or not isinstance(item, CreatedItem):
            self.job_failed(result, "Not created.")
            return
        self.show_created(item, reused=not result.outcome.counts.get("created"))  # found, not created: a retry

    def show_created(self, item: CreatedItem, *, reused: bool = False) -> None:
        """The form is done: the item with its link, Copy link, Open; Create off, Close the default."""
        self.item = item
        self.status.setText("")
        self.url = item.url
        key = html.escape(item.key or item.id)
        link = f'<a href="{html.escape(self.url, quote=True)}">{html.escape(self.url)}</a>' if self.url else ""
        also = f" (ID {html.escape(item.id)})" if item.id and html.escape(item.id) != key else ""
        verb = "Already created (by an earlier attempt of this form)" if reused else "Created"
        draft = DRAFT_NOTES.get(self.target.system_name(), "")
        note = f"<br><i>{html.escape(draft)}</i>" if draft else ""
        self.created.setText(f"✔ {verb} {html.escape(self.noun)} <b>{key}</b>{also}<br>{link}{note}")
        self.copy_btn.setEnabled(bool(self.url))
        self.open_btn.setEnabled(bool(self.url))
        self.result_box.show()
        self.create_btn.setEnabled(False)
        self.create_btn.setDefault(False)
        self.close_btn.setDefault(True)
        self.close_btn.setFocus()
        self.another_btn.show()
        self.draft_note.hide()  # the result says it
        for name in ("target", "workspace", "name", "description", "release", "severity", "phase"):
            self.inputs[name].setEnabled(False)

    def another(self) -> None:
        """Start a new defect on the same target: clear name and description, Create on again."""
        self.item, self.url = None, ""
        self.result_box.hide()
        self.another_btn.hide()
        self.draft_note.setVisible(bool(self.draft_note.text()))
        for widget in self.inputs.values():
            widget.setEnabled(True)
        self.name.clear()
        self.description.clear()
        self.close_btn.setDefault(False)
        self.create_btn.setDefault(True)
        self.create_btn.setEnabled(not self.target.empty())
        self.name.setFocus()

    def open_created(self) -> None:
        open_link(self, self.url, self.opener)
