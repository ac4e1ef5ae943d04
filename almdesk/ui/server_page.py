"""The Server page: one SD Elements server's ALM connectors and connections beside the local ones,
the plan as a diff table, and Pull / Plan / Push (the plan shown first, then a confirmation) / Test
on server, with progress and Cancel through the job runner.

Only drawing happens here; the rows and the jobs come from :mod:`almdesk.remote.jobs`. Signals:
changed() — a pull or push changed local connectors, connections or projects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from almdesk.errors import UserFacingError
from almdesk.jobs.record import JobResult
from almdesk.remote import jobs
from almdesk.remote.check import ServerTest, verdict
from almdesk.services import Services
from almdesk.ui import theme
from almdesk.ui.icons import StatusLabel, icon
from almdesk.ui.runner import JobRunner

ITEM_COLUMNS = ("Kind", "On the server", "System", "Here", "State", "Frequency", "Last job")
PLAN_COLUMNS = ("Item", "Action", "Field", "Server", "Local")
ACTION_TONES = ("create", "update", "delete", "read-only", "blocked")  # coloured by theme.STATUS_TONES


class ServerPage(QWidget):
    """Remote admin of one SD Elements connector's server. Signals: changed()."""

    changed = Signal()

    def __init__(self, services: Services, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.confirm: Callable[[str], bool] = self._confirm
        self.handle: int | None = None
        self.pending_push = False
        self.last_plan: dict[str, Any] = {}
        self._test: dict[str, Any] = {}
        self.source = QComboBox()
        self.source.setObjectName("server_source")
        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        server_label = QLabel("SD &Elements server:")
        server_label.setBuddy(self.source)
        top.addWidget(server_label)
        top.addWidget(self.source, 1)
        for key, text, slot, icon_name in (("pull", "P&ull", self.pull, "import"), ("plan", "Pl&an", self.plan, "trace"),
                                           ("push", "Pu&sh…", self.push, "export"),
                                           ("test", "&Test on server", self.test_selected, "test"),
                                           ("cancel", "Cancel", self.cancel, "cancel")):
            button = QPushButton(icon(icon_name), text)
            button.setObjectName(f"server_{key}")
            button.clicked.connect(slot)
            self.buttons[key] = button
            top.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setObjectName("server_progress")
        self.progress.setTextVisible(True)
        self.progress.hide()  # shown from the first job on (an empty bar read as a stuck job)
        self.status = StatusLabel("server_status")
        self.items = QTreeWidget()
        self.items.setObjectName("server_items")
        self.items.setHeaderLabels(list(ITEM_COLUMNS))
        self.items.setRootIsDecorated(False)
        self.diff = QTreeWidget()
        self.diff.setObjectName("server_plan")
        self.diff.setHeaderLabels(list(PLAN_COLUMNS))
        self.diff.setRootIsDecorated(False)
        split = QSplitter(Qt.Orientation.Vertical)
        for title, table in (("Server items beside the local ones", self.items),
                             ("Plan: what a push would change on the server", self.diff)):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            heading = QLabel(f"<b>{title}</b>")
            lay.addWidget(heading)
            lay.addWidget(table)
            split.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        runner.progress.connect(self._progress)
        runner.finished.connect(self._finished)
        self.source.currentIndexChanged.connect(lambda _i: self.refresh_items())
        self.reload()

    # --- drawing ---------------------------------------------------------------------------
    def reload(self) -> None:
        current = self.source.currentText()
        self.source.blockSignals(True)
        self.source.clear()
        names = jobs.sde_connectors(self.services.config)
        self.source.addItems(names)
        if current in names:
            self.source.setCurrentText(current)
        self.source.blockSignals(False)
        self.refresh_items()
        self._enable()

    def refresh_items(self) -> None:
        self.items.clear()
        if not self.source.currentText():
            self.status.setText("No SD Elements connector yet: add one on the Connectors page.")
            return
        rows = jobs.server_rows(self.services.config, self.source.currentText())
        if not rows and not self.status.text():
            self.status.set_status("info", "Nothing read from this server yet: Pull reads its ALM connectors and "
                                           "connections; Plan shows what a Push would change.")
        for row in rows:
            item = QTreeWidgetItem([row["kind"], row["server"], row["system"], row["local"], row["state"],
                                    row["frequency"], row["last_job"] + (" · in progress" if row["in_progress"] else "")])
            item.setData(0, Qt.ItemDataRole.UserRole, row["local_name"])
            if row["state"] != "mirrored":
                item.setForeground(4, QBrush(theme.tone("warning")))
            self.items.addTopLevelItem(item)
        for col in range(len(ITEM_COLUMNS)):
            self.items.resizeColumnToContents(col)

    def show_plan(self, plan: dict[str, Any]) -> None:
        self.last_plan = plan
        self.diff.clear()
        for values in jobs.plan_rows(plan):
            item = QTreeWidgetItem(list(values))
            if values[1] in ACTION_TONES:
                item.setForeground(1, QBrush(theme.tone(values[1])))
            self.diff.addTopLevelItem(item)
        for col in range(len(PLAN_COLUMNS)):
            self.diff.resizeColumnToContents(col)

    def _enable(self) -> None:
        busy = self.handle is not None
        has = bool(self.source.currentText())
        for key in ("pull", "plan", "push", "test"):
            self.buttons[key].setEnabled(has and not busy)
        self.buttons["cancel"].setEnabled(busy)

    # --- actions ---------------------------------------------------------------------------
    def _submit(self, spec_fn: Callable[[], Any]) -> None:
        try:
            spec = spec_fn()
        except UserFacingError as exc:
            self.status.set_status("warning", f"{exc.message} {exc.hint}")
            return
        self.progress.setRange(0, 0)
        self.progress.show()
        self.handle = self.runner.submit(spec, queue=f"server:{self.source.currentText()}")
        self._enable()

    def pull(self) -> None:
        self._submit(lambda: jobs.pull_spec(self.services, self.source.currentText()))

    def plan(self) -> None:
        self.pending_push = False
        self._submit(lambda: jobs.plan_spec(self.services, self.source.currentText()))

    def push(self) -> None:
        """The plan first; the push only after it was shown and confirmed."""
        self.pending_push = True
        self._submit(lambda: jobs.plan_spec(self.services, self.source.currentText()))

    def test_selected(self) -> None:
        item = self.items.currentItem()
        name = item.data(0, Qt.ItemDataRole.UserRole) if item else ""
        if not name:
            self.status.setText("Select a mirrored connector or connection to test on the server.")
            return
        kind = item.text(0) if item else ""
        self._test = {"name": name, "kind": kind}
        self._submit(lambda: jobs.server_test_spec(self.services, self.source.currentText(), name))

    def cancel(self) -> None:
        if self.handle is not None:
            self.runner.cancel(self.handle)

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Push to the server", text)
        return answer == QMessageBox.StandardButton.Yes

    # --- job results -----------------------------------------------------------------------
    def _progress(self, handle: int, done: int, total: int, text: str) -> None:
        if handle != self.handle:
            return
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.progress.setFormat(text or "%p%")

    def _finished(self, handle: int, result: object) -> None:
        if handle != self.handle:
            return
        self.handle = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done" if isinstance(result, JobResult) else "cancelled")
        if not isinstance(result, JobResult):  # cancelled before it started
            self.status.set_status("cancelled", "Cancelled.")
            self._enable()
            return
        data, outcome = result.outcome.data, result.outcome
        self.status.set_status("ok" if outcome.succeeded else "failed", outcome.message)
        if "plan" in data:
            self.show_plan(data["plan"])
        state = result.state
        if "pull" in data or "push" in data:
            self.refresh_items()
            self.changed.emit()
        if "server" in data and self._test:
            self._desktop_test(data["server"])
        elif "steps" in data and self._test.get("server"):
            server = ServerTest(**self._test["server"])
            self.status.set_status("ok" if server.success and outcome.succeeded else "warning",
                                   f"Server: {'success' if server.success else 'failed'}. Desktop: "
                                   f"{outcome.message} {verdict(server, outcome.succeeded)}")
            self._test = {}
        elif self.pending_push and "plan" in data and state == "succeeded":
            self.pending_push = False
            count = int(data["plan"].get("pending") or 0)
            self._enable()
            if not count:
                self.status.setText("Nothing to push: the server already has what is here.")
            elif self.confirm(f"Write {count} change(s) to {self.source.currentText()}'s server? The plan is "
                              "shown below."):
                self._submit(lambda: jobs.push_spec(self.services, self.source.currentText()))
                return
        self._enable()

    def _desktop_test(self, server: dict[str, Any]) -> None:
        self._test["server"] = server
        name, kind = self._test["name"], self._test["kind"]
        self._submit(lambda: self.services.test_spec(connector=name) if kind == "connector"
                     else self.services.test_spec(connection=name))
