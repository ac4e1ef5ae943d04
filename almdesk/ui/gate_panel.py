"""The release Gate dialog: count the items matching a release/phases/severities and compare.

Inputs follow DESIGN §4 (release, phases, severities, labels, threshold, explicit operator; a
workspace when run on a connector). Run submits ``services.gate_spec`` to the runner; the verdict
is shown big and coloured with the count, the query and the matching items (links open in the
browser; their context menu copies them). The three outcomes stay apart: a gate that ran passed
(PASS) or failed (FAIL) — the job's ``payload`` is its :class:`~almdesk.services.actions.GateReport`;
one that could not run (bad input, server trouble) has a ``failure``: no verdict, "The gate could not
run." and the error under the input it names. Colours come from the palette (:mod:`almdesk.ui.theme`).

The release is a server-backed picker (:class:`~almdesk.ui.field_editors.ServerPicker`): "↻" lists the
target's releases in the runner, under the field its system lists them as (:data:`RELEASE_FIELDS`: Octane's
``release``, Jira's versions, GitHub's milestones); a system that lists none keeps a plain input.
Keyboard: Tab goes down the form (the condition's operator before its threshold), then Run gate /
Cancel / Close, then the items; every label and button has a mnemonic.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import Field
from almdesk.base.records import OPERATORS, GateItem, GateRequest
from almdesk.base.settings import ConnectorSettings
from almdesk.config import connection_fields
from almdesk.errors import ConfigError
from almdesk.jobs.record import JobResult
from almdesk.services import Services
from almdesk.services.actions import GateReport
from almdesk.services.choices import ChoiceQuery, listable
from almdesk.services.specs import gate_items_spec
from almdesk.ui import theme
from almdesk.ui.dialogs import NO_TARGET_HINT, LinkTable, RowsModel, show_error, split_csv
from almdesk.ui.field_editors import Pickers, ServerPicker
from almdesk.ui.icons import icon
from almdesk.ui.runner import JobRunner
from almdesk.ui.target_dialog import TargetJobDialog

PAGE = 50
# the field each system lists its releases under: Octane's releases, Jira's versions, GitHub's milestones
RELEASE_FIELDS = ("release", "alm_project_version")
FIELDS = ("target", "workspace", "release", "phases", "severities", "labels", "threshold", "operator")


def verdict_css(tone: str) -> str:
    """The PASS / FAIL badge: the palette's base colour on the tone (readable light and dark)."""
    base = theme.palette().color(QPalette.ColorRole.Base).name()
    return f"color: {base}; background: {theme.tone(tone).name()}; padding: 6px 18px; border-radius: 6px;"


def item_rows(items: list[GateItem]) -> tuple[list[tuple[str, str, str, str, str]], list[str]]:
    return [(i.id, i.key, i.title, i.status, i.url) for i in items], [i.url for i in items]


class GateDialog(TargetJobDialog):
    """Runs a release gate on a connection (or a connector + workspace) and shows the verdict."""

    FIELD_ALIASES = {"phase": "phases", "severity": "severities", "label": "labels"}

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None = None,
                 connector_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, connection_id, connector_id, parent, prefix="gate", fields=FIELDS,
                         target_label="Run on", label_alignment=Qt.AlignmentFlag.AlignVCenter)
        self.setWindowTitle("Release gate")
        self.release = ServerPicker(Field("release", "Release", placeholder="release name, e.g. Release 3.2"),
                                    Pickers(runner, self.release_query()[0]), self._release_error)
        self.phases = QLineEdit()
        self.phases.setPlaceholderText("comma-separated, e.g. New, Opened  (empty: any phase)")
        self.severities = QLineEdit()
        self.severities.setPlaceholderText("comma-separated, e.g. Critical, Very High  (empty: any)")
        self.labels = QLineEdit()
        self.labels.setPlaceholderText("comma-separated labels or tags (empty: any)")
        self.operator = QComboBox()  # made first: it comes first in the row and in the Tab order
        self.operator.addItems(list(OPERATORS))
        self.operator.setCurrentText("<=")
        self.operator.setToolTip("The gate passes when: matching count OPERATOR threshold.")
        self.threshold = QSpinBox()
        self.threshold.setRange(0, 1_000_000)
        self.add_input("Release", "release", self.release)
        self.add_input("Phases", "phases", self.phases)
        self.add_input("Severities", "severities", self.severities)
        self.add_input("Labels", "labels", self.labels)
        cond = QWidget()
        cl = QHBoxLayout(cond)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(QLabel("passes when the count is"))
        cl.addWidget(self.operator)
        cl.addWidget(self.threshold)
        self.operator.setAccessibleName("Condition operator")
        self.threshold.setAccessibleName("Threshold")
        cl.addStretch(1)
        self.register("threshold", self.threshold)
        self.add_input("Condition", "operator", self.operator, shown=cond)
        self.run_btn = QPushButton(icon("gate"), "&Run gate")
        self.run_btn.setObjectName("run_gate")
        self.run_btn.setDefault(True)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn = QPushButton(icon("cancel"), "Ca&ncel")
        self.cancel_btn.setObjectName("cancel_gate")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn = close_btn = QPushButton("C&lose")
        close_btn.setObjectName("gate_close")
        close_btn.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        buttons.addWidget(close_btn)

        self.verdict = QLabel()
        self.verdict.setObjectName("gate_verdict")
        big = QFont(self.verdict.font())
        big.setPointSize(max(big.pointSize(), 9) * 2)
        big.setBold(True)
        self.verdict.setFont(big)
        self.verdict.hide()
        self.count = QLabel()
        self.count.setObjectName("gate_count")
        self.count.setTextFormat(Qt.TextFormat.RichText)
        count_font = QFont(self.count.font())
        count_font.setPointSize(max(count_font.pointSize(), 9) + 3)
        self.count.setFont(count_font)
        self.query = QLabel()
        self.query.setObjectName("gate_query")
        self.query.setWordWrap(True)
        self.query.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.query.setStyleSheet(theme.color_css("muted"))
        self.status.setText("Fill in the release and the condition, then press Run gate.")
        self.items_model = RowsModel(["ID", "Key", "Title", "Status", "Link"], url_column=4, parent=self)
        self.items = LinkTable(self.items_model)
        self.items.setObjectName("gate_items")
        self.items.hide()
        self.items_note = QLabel()
        self.items_note.setObjectName("gate_items_note")
        self.more_btn = QPushButton("Show &more")
        self.more_btn.setObjectName("gate_more")
        self.more_btn.setToolTip("Fetch the next page of matching items (counts again, then reads one page).")
        self.more_btn.clicked.connect(self.load_more)
        self.more_box = QWidget()
        ml = QHBoxLayout(self.more_box)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.items_note, 1)
        ml.addWidget(self.more_btn)
        self.more_box.hide()
        self._page_handle: int | None = None
        self._shown_request: GateRequest | None = None
        self._shown_target: tuple[int | None, int | None] = (None, None)
        self._count = 0
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        head = QHBoxLayout()
        head.addWidget(self.verdict)
        head.addWidget(self.count, 1)

        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        lay.addWidget(line)
        lay.addWidget(self.status)
        lay.addLayout(head)
        lay.addWidget(self.query)
        lay.addWidget(self.items, 1)
        lay.addWidget(self.more_box)
        self.resize(760, 620)
        self.start(self.run_btn, "run a gate on")
        if self.target.empty():
            self.status.clear()

    def focus_order(self) -> list[QWidget]:
        return [self.run_btn, self.cancel_btn, self.close_btn, self.items, self.more_btn]

    def release_query(self) -> tuple[ChoiceQuery, str | None]:
        """The query listing the target's releases, and the field its system lists them under (None: none)."""
        connection, connector = self.target.ids()
        system_name = self.target.system_name()
        system = self.services.registry.get(system_name) if system_name else None
        if system is None or (connection is None and connector is None):
            return ChoiceQuery(self.services, next(iter(self.services.registry)), _no_target, dict), None
        name = next((f for f in RELEASE_FIELDS if f in listable(system)), None)
        config = self.services.config
        if connection is not None:
            cid = connection
            return ChoiceQuery(self.services, system, lambda: config.connection_settings(cid).connector,
                               lambda: config.connection_settings(cid).params), name
        assert connector is not None
        kid = connector
        defaults = {f.name: f.default for f in connection_fields(system)}
        fields = self.target.target_input().fields

        def params() -> dict[str, object]:
            workspace = self.target.workspace_value()
            return {**defaults, **({fields[0]: workspace} if workspace and fields else {})}

        return ChoiceQuery(self.services, system, lambda: config.connector_settings(kid), params, kid), name

    def _target_changed(self) -> None:
        super()._target_changed()
        if hasattr(self, "release"):  # the base class calls this before the inputs exist
            query, name = self.release_query()
            self.release.retarget(Pickers(self.runner, query), name)

    def _release_error(self, error: ConfigError | None) -> None:
        """A release listing failed: its message under the input it names (the release when none)."""
        if error is None:  # listing again: what an earlier listing said goes
            for name in ("target", "workspace", "release"):
                show_error(self.errors[name], "")
            return
        self.show_failure(error.message, error.hint, error.field if error.field != self.release.list_as else
                          "release")

    def request(self) -> GateRequest:
        return GateRequest(release=self.release.text().strip(), phases=split_csv(self.phases.text()),
                           severities=split_csv(self.severities.text()), labels=split_csv(self.labels.text()),
                           threshold=self.threshold.value(), operator=self.operator.currentText(),
                           workspace=self.target.workspace_value())

    def run(self) -> int | None:
        request = self.request()
        spec = self.make_spec(lambda connection, connector: self.services.gate_spec(
            request, connection=connection, connector=connector))
        if spec is None:
            return None
        connection, connector = self.target.ids()
        self.job_result = None
        self.verdict.hide()
        self.items.hide()
        self.more_box.hide()
        self._shown_request = self.request()
        self._shown_target = (connection, connector)
        self.count.clear()
        self.query.clear()
        self.status.setText("Counting the matching items…")
        self.set_running(True)
        self.handle = self.runner.submit(spec)
        return self.handle

    def cancel(self) -> None:
        if self.handle is not None:
            self.runner.cancel(self.handle)

    def set_running(self, running: bool) -> None:
        self.run_btn.setEnabled(not running)
        self.cancel_btn.setEnabled(running)

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle == self._page_handle:
            self._page_finished(result)
            return
        super()._finished(handle, result)

    def job_done(self, result: JobResult) -> None:
        report = result.outcome.payload
        if not isinstance(report, GateReport):  # the gate could not run: bad input or server trouble
            self.job_failed(result, "The gate could not run.")
            self.status.setStyleSheet(theme.color_css("warning", bold=True))
            return
        self.show_verdict(report)

    def show_verdict(self, report: GateReport) -> None:
        passed = report.passed
        self.status.setStyleSheet("")
        self.verdict.setText("PASS" if passed else "FAIL")
        self.verdict.setStyleSheet(verdict_css("ok" if passed else "failed"))
        self.verdict.show()
        count, op, threshold = report.count, html.escape(report.operator), report.threshold
        self.count.setText(f"<b>{count}</b> matching item(s)<br><span style='font-size: small'>condition: "
                           f"count {op} {threshold} → {count} {op} {threshold} "
                           f"is <b>{'true' if passed else 'false'}</b></span>")
        self.query.setText(f"Counted: {report.query}")
        self.status.setText(f"Finished with {report.requests} HTTP request(s).")
        items = report.items
        rows, urls = item_rows(items)
        self.items_model.set_rows(rows, urls=urls)
        self.items.setVisible(bool(items))
        same_keys = all(str(i.key) == str(i.id) for i in items)
        self.items.setColumnHidden(1, same_keys)  # Octane's key is its id: show it once
        for col, width in enumerate((64, 90, 290, 110)):
            self.items.setColumnWidth(col, width)
        self._count = count
        self._update_more()

    def _update_more(self) -> None:
        shown = self.items_model.rowCount()
        self.more_box.setVisible(0 < shown < self._count)
        self.items_note.setText(f"Showing {shown} of {self._count} matching item(s).")
        self.more_btn.setEnabled(self._page_handle is None)

    def load_more(self) -> int | None:
        """Fetch the next page of matching items in a job (the gate's items are paged on demand)."""
        if self._shown_request is None or self._page_handle is not None:
            return None
        spec = gate_items_spec(self.services, self._shown_request, *self._shown_target,
                              offset=self.items_model.rowCount(), limit=PAGE)
        self.more_btn.setEnabled(False)
        self.items_note.setText("Fetching more items…")
        self._page_handle = self.runner.submit(spec)
        return self._page_handle

    def _page_finished(self, result: JobResult | None) -> None:
        self._page_handle = None
        if result is not None and result.state == "succeeded" and isinstance(result.outcome.payload, list):
            items: list[GateItem] = result.outcome.payload
            rows, urls = item_rows(items)
            self.items_model.append_rows(rows, urls=urls)
            if not items:
                self._count = self.items_model.rowCount()  # the server has no more
        self._update_more()
        if result is not None and result.state == "failed":
            why = result.outcome.why()
            show_error(self.error, why.message, why.hint)


def _no_target() -> ConnectorSettings:
    raise ConfigError("Choose where to run the gate first.", NO_TARGET_HINT, field="connection")
