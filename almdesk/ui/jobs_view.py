"""The Jobs page: every recorded job with filters, and the selected job's details and item events.

Reads are short store queries: at most ``JOB_LIMIT`` jobs, and the selected job's events a page of
``EVENT_PAGE`` at a time as the table scrolls (``fetchMore``), so a 100,000-event job costs one page
and one count. The page loads when first shown and, when jobs end while it is hidden, again when it
is next shown (:meth:`JobsView.refresh`). A job recorded in debug mode has a button that opens its
redacted HTTP trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from almdesk.jobs.history import get_job, recent_jobs
from almdesk.models import JobEventRow
from almdesk.services import Services
from almdesk.ui.dialogs import EVENT_COLORS, LinkTable, RowsModel, split_message

JOB_KINDS = ("test-connector", "test-connection", "sync", "dry-run", "gate", "gate-items", "defect", "import",
             "workspaces")
JOB_STATES = ("succeeded", "failed", "cancelled", "running")
JOB_LIMIT = 500
EVENT_PAGE = 500
STATE_COLORS = {"succeeded": "#1b7f3b", "failed": "#b3261e", "cancelled": "#777777", "running": "#0b57d0"}


LOG_SHOWN = 20  # job log lines shown under a job's details


def _when(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)


class EventsModel(RowsModel):
    """One job's events (settled: see :func:`_settled_clause`), fetched ``EVENT_PAGE`` rows at a time."""

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
            with self.services.store.session() as s:
                total, failed = s.execute(
                    select(func.count(), func.sum(case((JobEventRow.status == "failed", 1), else_=0)))
                    .where(JobEventRow.job_id == job_id, _settled_clause())).one()
            self.total, self.failed = int(total or 0), int(failed or 0)
            rows, urls, colors = self._page()
        self.set_rows(rows, urls, colors)

    def _page(self) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
        e = JobEventRow
        with self.services.store.session() as s:
            page = s.execute(select(e.id, e.time, e.item, e.action, e.status, e.message, e.url)
                             .where(e.job_id == self.job_id, e.id > self._last_id, _settled_clause())
                             .order_by(e.id).limit(EVENT_PAGE)).all()
        if page:
            self._last_id = page[-1][0]
        return ([(_event_time(r[1]), r[2], r[3], r[4], r[5]) for r in page], [r[6] or "" for r in page],
                [EVENT_COLORS.get(r[4], "") for r in page])

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


class JobsView(QWidget):
    """Filters (connection, kind, state) over the job history; details and events of the selected job."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.jobs: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
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
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.reload)
        for combo in (self.connection, self.kind, self.state):
            combo.currentIndexChanged.connect(lambda _i: self._load_jobs())
        filters = QHBoxLayout()
        for label, combo in (("Connection", self.connection), ("Kind", self.kind), ("State", self.state)):
            filters.addWidget(QLabel(label + ":"))
            filters.addWidget(combo)
        filters.addStretch(1)
        filters.addWidget(refresh)

        self.job_model = RowsModel(["#", "Started", "Kind", "Connection", "State", "Seconds", "Result"], parent=self)
        self.table = LinkTable(self.job_model)
        self.table.setObjectName("job_table")
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._select(cur))
        self.count_label = QLabel()
        self.count_label.setObjectName("job_count")

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
        self.trace_btn = QPushButton("Open HTTP &trace…")
        self.trace_btn.setObjectName("open_trace")
        self.trace_btn.setToolTip("The redacted HTTP exchanges recorded while this job ran (debug mode).")
        self.trace_btn.clicked.connect(self.open_trace)
        self.trace_btn.hide()
        self.event_model = EventsModel(services, parent=self)
        self.events = LinkTable(self.event_model)
        self.events.setObjectName("event_table")
        self.event_label = QLabel()
        self.event_label.setObjectName("event_count")

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(filters)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.count_label)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.trace_btn)
        bl.addLayout(head)
        bl.addWidget(self.detail)
        bl.addWidget(self.events, 1)
        bl.addWidget(self.event_label)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([250, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.stale = True  # loaded when first shown
        for col, width in enumerate((48, 140, 110, 130, 80, 64)):
            self.table.setColumnWidth(col, width)
        for col, width in enumerate((70, 260, 110, 70)):
            self.events.setColumnWidth(col, width)

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
        keep = self.current["id"] if self.current else None
        self.jobs = recent_jobs(self.services.store, connection_id=self.connection.currentData(),
                                kind=self.kind.currentData() or None, state=self.state.currentData() or None,
                                limit=JOB_LIMIT)
        rows, colors = [], []
        for job in self.jobs:
            who = job["connection"] or ("(connector)" if job["connector_id"] else "")
            auto = " (auto)" if job["automatic"] else ""
            rows.append((job["id"], _when(job["started"]), job["kind"] + auto, who, job["state"],
                         f"{job['seconds']:.1f}", job["result_message"]))
            colors.append(STATE_COLORS.get(job["state"], ""))
        self.job_model.set_rows(rows, colors=colors)
        more = " (newest shown; narrow the filters to see older ones)" if len(self.jobs) >= JOB_LIMIT else ""
        self.count_label.setText(f"{len(self.jobs)} job(s){more}")
        row = next((i for i, j in enumerate(self.jobs) if j["id"] == keep), 0 if self.jobs else -1)
        if row >= 0:
            self.table.selectRow(row)
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
        job = get_job(self.services.store, job_id) if job_id is not None else None
        self.current = job
        if job is None:
            self.title.setText("Select a job to see its details." if self.jobs else "No job matches the filters.")
            self.detail.clear()
            self.trace_btn.hide()
            self.event_model.load(None)
            self.event_label.clear()
            return
        self.title.setText(f"Job {job['id']}: {job['title']}")
        data = job.get("data") or {}
        hint = str(data.get("hint") or "")
        lines = [f"{job['state']} · started {_when(job['started'])} · {job['seconds']:.1f} s"
                 + (" · automatic" if job["automatic"] else ""), split_message(job["result_message"], hint)]
        if hint:
            lines.append("How to fix: " + hint)
        counts = _counts(job["counts"])
        if counts:
            lines.append("Counts: " + counts)
        if job["kind"] == "gate" and "query" in data:
            lines.append(f"Query: {data['query']}")
        if data.get("requests"):
            lines.append(f"HTTP requests: {data['requests']}")
        for level, message in (data.get("log") or [])[-LOG_SHOWN:]:
            lines.append(f"{level}: {message}")
        self.detail.setText("\n".join(line for line in lines if line))
        self.detail.setToolTip(json.dumps(data, indent=1, default=str)[:4000] if data else "")
        trace = job["trace_path"]
        self.trace_btn.setVisible(bool(trace))
        self.trace_btn.setEnabled(bool(trace) and Path(trace).exists())
        if trace and not Path(trace).exists():
            self.trace_btn.setToolTip(f"The trace file {trace} no longer exists.")
        self.event_model.load(job["id"])
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


def _settled_clause() -> Any:
    """Leave out "running" events of steps that later reported their result (Test Connection's steps)."""
    later = aliased(JobEventRow)
    ended = exists().where(and_(later.job_id == JobEventRow.job_id, later.item == JobEventRow.item,
                                later.action == JobEventRow.action, later.status != "running"))
    return (JobEventRow.status != "running") | ~ended


def _event_time(stamp: float) -> str:
    import time

    return time.strftime("%H:%M:%S", time.localtime(stamp))
