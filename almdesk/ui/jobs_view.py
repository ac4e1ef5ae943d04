"""The Jobs page: every recorded job with filters (connection, kind, state) and a search, and the
selected job's details and item events (:class:`JobDetails`, also what the job dock opens for a job
that is not a running sync: :class:`JobDetailsDialog`).

The page is the history; the job dock is this session's live list. Both open a job the same way:
a sync or dry run still running opens its live console (:meth:`JobsView.open_console`, when the page
has the runner), anything else shows these details.

Times are local with the zone (:func:`~almdesk.ui.dialogs.local_time`); a gate's outcome reads
passed / failed (it ran) / could not run (:func:`~almdesk.ui.dialogs.job_outcome`).

Reads are short store queries (:mod:`almdesk.services.queries`; the page opens no session): at
most ``JOB_LIMIT`` jobs, and the selected job's events a page of ``EVENT_PAGE`` at a time as the
table scrolls (``fetchMore``), so a 100,000-event job costs one page and one count. The page loads
when first shown and, when jobs end while it is hidden, again when it is next shown
(:meth:`JobsView.refresh`). A job recorded in debug mode has a button that opens its redacted HTTP trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from almdesk.jobs.history import recent_jobs
from almdesk.services import Services
from almdesk.services.queries import event_counts, event_page, job_data, job_detail
from almdesk.ui.dialogs import EVENT_COLORS, LinkTable, RowsModel, job_outcome, local_time
from almdesk.ui.icons import icon
from almdesk.ui.runner import JobRunner

JOB_KINDS = ("test-connector", "test-connection", "sync", "dry-run", "gate", "gate-items", "defect", "import",
             "workspaces")
JOB_STATES = ("succeeded", "failed", "cancelled", "running")
JOB_LIMIT = 500
EVENT_PAGE = 500


LOG_SHOWN = 20  # job log lines shown under a job's details


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)


class EventsModel(RowsModel):
    """One job's events (settled: :func:`~almdesk.services.queries.event_page`), fetched ``EVENT_PAGE`` rows at a time."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(["Time", "Item", "Action", "Status", "Message"], url_column=1, parent=parent)
        self.services = services
        self.job_id: int | None = None
        self.total = 0
        self.failed = 0
        self._last_id = 0

    def load(self, job_id: int | None) -> None:
        """Show ``job_id``'s first page of events (and count them all in SQL)."""
        self.job_id, self._last_id, self.total, self.failed = job_id, 0, 0, 0
        rows: list[tuple[Any, ...]] = []
        urls: list[str] = []
        colors: list[str] = []
        if job_id is not None:
            self.total, self.failed = event_counts(self.services.store, job_id)
            rows, urls, colors = self._page()
        self.set_rows(rows, urls, colors)

    def _page(self) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
        if self.job_id is None:
            return [], [], []
        page = event_page(self.services.store, self.job_id, self._last_id, EVENT_PAGE)
        if page:
            self._last_id = page[-1].id
        return ([(_event_time(r.time), r.item, r.action, r.status, r.message) for r in page],
                [r.url for r in page], [EVENT_COLORS.get(r.status, "") for r in page])

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.job_id is not None and len(self.rows) < self.total

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        rows, urls, colors = self._page()
        if not rows:  # the job's events went away under us
            self.total = len(self.rows)
            return
        self.append_rows(rows, urls, colors)


class JobDetails(QWidget):
    """One recorded job: title, state and result, how to fix, counts, log lines, its events (paged)
    and a button to its HTTP trace when it was recorded in debug mode."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.current: dict[str, Any] | None = None
        self.title = QLabel("Select a job to see its details.")
        self.title.setObjectName("job_title")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("job_detail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.trace_btn = QPushButton(icon("trace"), "Open HTTP &trace…")
        self.trace_btn.setObjectName("open_trace")
        self.trace_btn.setToolTip("The redacted HTTP exchanges recorded while this job ran (debug mode).")
        self.trace_btn.clicked.connect(self.open_trace)
        self.trace_btn.hide()
        self.event_model = EventsModel(services, parent=self)
        self.events = LinkTable(self.event_model)
        self.events.setObjectName("event_table")
        self.event_label = QLabel()
        self.event_label.setObjectName("event_count")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.head = QHBoxLayout()
        self.head.addWidget(self.title, 1)
        self.head.addWidget(self.trace_btn)
        lay.addLayout(self.head)
        lay.addWidget(self.detail)
        lay.addWidget(self.events, 1)
        lay.addWidget(self.event_label)
        for col, width in enumerate((150, 260, 110, 70)):
            self.events.setColumnWidth(col, width)

    def show_job(self, job_id: int | None, empty: str = "Select a job to see its details.") -> None:
        """Show job ``job_id`` (None: ``empty``, nothing else)."""
        job = job_detail(self.services.store, job_id) if job_id is not None else None
        self.current = job.record if job is not None else None
        if job is None:
            self.title.setText(empty)
            self.detail.clear()
            self.trace_btn.hide()
            self.event_model.load(None)
            self.event_label.clear()
            return
        self.title.setText(f"Job {job.id}: {job.title}")
        outcome = job_outcome(job.kind, job.state, data=job.data)
        lines = [f"{outcome} · started {local_time(job.started)} · {job.seconds:.1f} s"
                 + (" · automatic" if job.automatic else ""), job.message]
        if job.hint:
            lines.append("How to fix: " + job.hint)
        counts = _counts(job.counts)
        if counts:
            lines.append("Counts: " + counts)
        if job.query:
            lines.append(f"Query: {job.query}")
        if job.requests:
            lines.append(f"HTTP requests: {job.requests}")
        for level, text in job.log[-LOG_SHOWN:]:
            lines.append(f"{level}: {text}")
        self.detail.setText("\n".join(line for line in lines if line))
        self.detail.setToolTip(json.dumps(job.data, indent=1, default=str)[:4000] if job.data else "")
        trace = job.trace_path
        self.trace_btn.setVisible(bool(trace))
        self.trace_btn.setEnabled(bool(trace) and Path(trace).exists())
        if trace and not Path(trace).exists():
            self.trace_btn.setToolTip(f"The trace file {trace} no longer exists.")
        self.event_model.load(job.id)
        total, failed = self.event_model.total, self.event_model.failed
        self.event_label.setText(f"{total} event(s)" + (f", {failed} failed" if failed else ""))

    def open_trace(self) -> QWidget | None:
        if not self.current or not self.current["trace_path"]:
            return None
        from almdesk.ui.trace_view import TraceView

        view = TraceView(self.current["trace_path"], self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.show()
        return view


class JobDetailsDialog(QDialog):
    """A window with one job's :class:`JobDetails` (the job dock opens it), with Refresh and Close."""

    def __init__(self, services: Services, job_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("job_details")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.job_id = job_id
        self.details = JobDetails(services, self)
        refresh = QPushButton(icon("refresh"), "&Refresh")
        refresh.clicked.connect(self.reload)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.details, 1)
        lay.addLayout(buttons)
        self.resize(860, 520)
        self.reload()

    def reload(self) -> None:
        self.details.show_job(self.job_id, f"Job {self.job_id} is no longer in the history.")
        job = self.details.current
        self.setWindowTitle(f"Job {self.job_id}" + (f" — {job['title']}" if job else ""))


class JobsView(QWidget):
    """Filters (connection, kind, state) and a search over the job history; the selected job's details,
    and (given the ``runner``) the live console of a sync still running."""

    def __init__(self, services: Services, runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.jobs: list[dict[str, Any]] = []
        self.loaded: list[dict[str, Any]] = []
        self.gate_data: dict[int, dict[str, Any]] = {}  # the stored data of the failed gates shown (ran or not)
        self.connection = QComboBox()
        self.connection.setObjectName("filter_connection")
        self.connection.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.connection.setMinimumContentsLength(14)
        self.kind = QComboBox()
        self.kind.setObjectName("filter_kind")
        self.kind.addItem("All kinds", "")
        for kind in JOB_KINDS:
            self.kind.addItem(kind, kind)
        self.state = QComboBox()
        self.state.setObjectName("filter_state")
        self.state.addItem("All states", "")
        for state in JOB_STATES:
            self.state.addItem(state, state)
        self.search = QLineEdit()
        self.search.setObjectName("job_search")
        self.search.setPlaceholderText("Search title and result")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._show_jobs())
        refresh = QPushButton(icon("refresh"), "&Refresh")
        refresh.setToolTip("Read the jobs again (F5, the window's Refresh)")
        refresh.clicked.connect(self.reload)
        for combo in (self.connection, self.kind, self.state):
            combo.currentIndexChanged.connect(lambda _i: self._load_jobs())
        filters = QHBoxLayout()
        for label, combo in (("Connection", self.connection), ("Kind", self.kind), ("State", self.state)):
            filters.addWidget(QLabel(label + ":"))
            filters.addWidget(combo)
        filters.addWidget(self.search, 1)
        filters.addWidget(refresh)

        self.job_model = RowsModel(["#", "Started", "Kind", "Connection", "State", "Seconds", "Result"], parent=self)
        self.table = LinkTable(self.job_model)
        self.table.setObjectName("job_table")
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._select(cur))
        self.count_label = QLabel()
        self.count_label.setObjectName("job_count")
        self.details = JobDetails(services)
        self.console_btn = QPushButton(icon("sync"), "Open &console")
        self.console_btn.setObjectName("open_console")
        self.console_btn.setToolTip("The live console of this sync (it is still running).")
        self.console_btn.clicked.connect(self.open_console)
        self.console_btn.hide()
        self.details.head.insertWidget(1, self.console_btn)
        # the details' parts, under the names the page always had
        self.title, self.detail, self.trace_btn = self.details.title, self.details.detail, self.details.trace_btn
        self.event_model, self.events, self.event_label = (self.details.event_model, self.details.events,
                                                           self.details.event_label)

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(filters)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.count_label)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.details)
        split.setSizes([400, 300])  # the list first: the details of one job need less
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.stale = True  # loaded when first shown
        for col, width in enumerate((48, 170, 110, 130, 90, 64)):
            self.table.setColumnWidth(col, width)

    @property
    def current(self) -> dict[str, Any] | None:
        return self.details.current

    # --- loading ------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale:
            self.reload()

    def refresh(self) -> None:
        """Reload now if the page is shown; otherwise when it is next shown (jobs end while it is hidden)."""
        if self.isVisible():
            self.reload()
        else:
            self.stale = True

    def reload(self) -> None:
        """Refresh the connection filter and the job list, keeping the selection where possible."""
        self.stale = False
        current = self.connection.currentData()
        self.connection.blockSignals(True)
        self.connection.clear()
        self.connection.addItem("All connections", None)
        for info in self.services.config.connections():
            self.connection.addItem(info.alias, info.id)
        self.connection.setCurrentIndex(max(self.connection.findData(current), 0))
        self.connection.blockSignals(False)
        self._load_jobs()

    def _load_jobs(self) -> None:
        self.loaded = recent_jobs(self.services.store, connection_id=self.connection.currentData(),
                                  kind=self.kind.currentData() or None, state=self.state.currentData() or None,
                                  limit=JOB_LIMIT)
        self.gate_data = job_data(self.services.store, [j["id"] for j in self.loaded
                                                    if j["kind"] == "gate" and j["state"] == "failed"])
        self._show_jobs()

    def _show_jobs(self) -> None:
        """The loaded jobs that match the search (title, result, kind or connection; case-insensitive)."""
        keep = self.current["id"] if self.current else None
        needle = self.search.text().strip().lower()
        self.jobs = [j for j in self.loaded if not needle or needle in " ".join(
            str(j[k] or "") for k in ("title", "result_message", "kind", "connection")).lower()]
        rows, colors = [], []
        for job in self.jobs:
            who = job["connection"] or ("(connector)" if job["connector_id"] else "")
            auto = " (auto)" if job["automatic"] else ""
            outcome = job_outcome(job["kind"], job["state"], data=self.gate_data.get(job["id"], {}))
            rows.append((job["id"], local_time(job["started"]), job["kind"] + auto, who, outcome,
                         f"{job['seconds']:.1f}", job["result_message"]))
            colors.append(outcome)
        self.job_model.set_rows(rows, colors=colors)
        more = " (newest shown; narrow the filters to see older ones)" if len(self.loaded) >= JOB_LIMIT else ""
        shown = f"{len(self.jobs)} of {len(self.loaded)}" if needle else f"{len(self.jobs)}"
        self.count_label.setText(f"{shown} job(s){more}")
        row = next((i for i, j in enumerate(self.jobs) if j["id"] == keep), 0 if self.jobs else -1)
        if row >= 0:
            self.table.selectRow(row)
            if self.current is None or self.current["id"] != self.jobs[row]["id"]:
                self._show(self.jobs[row]["id"])
        else:
            self._show(None)

    def _select(self, index: QModelIndex) -> None:
        if index.isValid() and index.row() < len(self.jobs):
            self._show(self.jobs[index.row()]["id"])

    def select_job(self, job_id: int) -> bool:
        row = next((i for i, j in enumerate(self.jobs) if j["id"] == job_id), -1)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def _show(self, job_id: int | None) -> None:
        self.details.show_job(job_id, "Select a job to see its details." if self.jobs
                              else "No job matches the filters.")
        self.console_btn.setVisible(self._live_handle() is not None)

    def _live_handle(self) -> int | None:
        job = self.current
        if self.runner is None or job is None or job["kind"] not in ("sync", "dry-run") or job["state"] != "running":
            return None
        return self.runner.handle_of(int(job["id"]))

    def open_console(self) -> QWidget | None:
        """The live console of the selected sync (None when it is not running here)."""
        handle = self._live_handle()
        if handle is None or self.runner is None:
            return None
        from almdesk.ui.sync_console import SyncConsole

        console = SyncConsole.follow(self.services, self.runner, handle, self.window())
        if console is not None:
            console.show()
            console.raise_()
        return console

    def open_trace(self) -> QWidget | None:
        return self.details.open_trace()


def _event_time(stamp: float) -> str:
    return local_time(stamp, seconds=True)
