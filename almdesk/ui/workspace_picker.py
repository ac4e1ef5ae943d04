"""The workspace picker: lists a connector's workspaces through a job in the runner (the UI thread
never talks HTTP) and lets the user pick one (:func:`pick_workspace`). It reads the job's typed
outcome: the :class:`~almdesk.services.choices.ChoiceList` payload, or the ``failure``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.services.choices import ChoiceList
from almdesk.services.specs import workspaces_spec
from almdesk.ui.dialogs import error_label, show_error
from almdesk.ui.runner import JobRunner


class WorkspacePicker(QDialog):
    """Lists a connector's workspaces (fetched by a job) and lets the user pick one."""

    def __init__(self, services: Services, runner: JobRunner, connector_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        info = services.config.connector(connector_id)
        self.setWindowTitle(f"Workspaces of {info.name}")
        self.status = QLabel(f"Signing in to {info.name} and listing its workspaces…")
        self.status.setObjectName("picker_status")
        self.status.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by id or name")
        self.filter.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setObjectName("workspace_list")
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        self.error = error_label("picker_error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.list.currentItemChanged.connect(
            lambda cur, _prev: self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(cur is not None))
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.buttons)
        self.resize(460, 420)
        runner.finished.connect(self._finished)
        self._attached = True
        self.handle = runner.submit(workspaces_spec(services, connector_id))

    def _detach(self) -> None:
        if self._attached:
            self._attached = False
            self.runner.finished.disconnect(self._finished)

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self.handle:
            return
        self._detach()
        if result is None:
            self.status.setText("Cancelled.")
            return
        payload = result.outcome.payload
        if result.state != "succeeded" or not isinstance(payload, ChoiceList):
            why = result.outcome.why()
            self.status.setText("Could not list the workspaces.")
            show_error(self.error, why.message, why.hint)
            self.filter.hide()
            self.list.hide()
            lay = self.layout()
            if isinstance(lay, QVBoxLayout):
                lay.insertStretch(lay.count() - 1, 1)  # keep the message at the top
            self.resize(self.width(), 260)
            return
        found = payload.choices
        for ident, name in found:
            item = QListWidgetItem(f"{name}  (id {ident})")
            item.setData(Qt.ItemDataRole.UserRole, ident)
            self.list.addItem(item)
        self.status.setText(f"{len(found)} workspace(s). Pick the one to use:" if found else
                            "The server lists no workspace this API key can use. Ask the space admin to "
                            "assign the key to a workspace.")
        if found:
            self.list.setCurrentRow(0)
            self.list.setFocus()

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def done(self, code: int) -> None:
        if self._attached:  # closed before the list arrived: stop the job
            self.runner.cancel(self.handle)
        self._detach()
        super().done(code)


def pick_workspace(parent: QWidget | None, services: Services, runner: JobRunner, connector_id: int) -> str | None:
    """Run a job listing the connector's workspaces, show them, and return the picked id (or None)."""
    dialog = WorkspacePicker(services, runner, connector_id, parent)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.chosen()
        return None
    finally:
        dialog.deleteLater()
