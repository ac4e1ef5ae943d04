"""The sync console: one sync or dry run, live — progress, counts, ETA, Cancel, and every item's row.

Job events arrive one signal each; they are only queued in :meth:`SyncConsole._on_event`, counted
by a timer every ``FLUSH_MS``, and put into the table ``DRAIN_ROWS`` at a time (the event loop runs
between two such slices), so thousands of events never stall the window. The rows live in Qt's own
item model (:class:`~almdesk.ui.sync_rows.ItemRowsModel`) and the "Show" filter proxy is attached
only while a filter is chosen: painting the table calls no Python, so it never waits for
the sync worker to hand back the GIL (a Python ``data()`` per cell did, hundreds of times a paint).
A dry run ends with its plan; a long sync that ends while the window is in the background says so
in the tray (or the main window's status bar).

The progress bar shows the latest progress each flush (the runner sends the rest of a burst, so it
agrees with the counters); the ETA (:class:`~almdesk.ui.sync_rows.Eta`) says "estimating…" until enough
items were written to judge the rate (connecting and planning are not part of it).
Closing the console does not stop the job: :meth:`SyncConsole.follow` opens one on a job already
running (from the job dock or the Jobs page), with the rows and progress the runner kept.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QFont, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services
from almdesk.sync.link_admin import task_id_of_event
from almdesk.ui import theme
from almdesk.ui.dialogs import EVENT_COLORS, LinkTable
from almdesk.ui.icons import icon
from almdesk.ui.runner import JobRunner
from almdesk.ui.sync_rows import Eta, ItemRowsModel, ShowFilter, duration

FLUSH_MS = 100
DRAIN_ROWS = 50  # rows put into the table per slice (~40 µs each: a few ms of UI thread)
NOTIFY_AFTER = 10.0  # seconds: longer syncs announce their end when the window is in the background
SHOW = ("All rows", "Changes only", "Failures only")
# live counters: (action, status) -> counter name
COUNTERS = {("create", "ok"): "created", ("close", "ok"): "closed", ("reopen", "ok"): "reopened",
            ("update-local", "ok"): "local updated", ("link", "ok"): "linked", ("skip", "skipped"): "skipped",
            ("wait", "waiting"): "waiting"}
COUNT_ORDER = ("created", "closed", "reopened", "local updated", "linked", "skipped", "waiting", "failed", "planned")
COLUMN_WIDTHS = (300, 90, 110, 70)


class SyncConsole(QDialog):
    """Runs ``spec`` (a sync or dry run) when first shown and follows it until it ends.

    Signals: show_link(int connection id, str task id) — a row was double-clicked: show that task's link."""

    show_link = Signal(int, str)

    def __init__(self, services: Services, runner: JobRunner, spec: JobSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.eta_clock = Eta()  # the ETA (its clock: a test's own)
        self.services = services
        self.runner = runner
        self.spec = spec
        self.dry_run = spec.kind == "dry-run"
        self.handle: int | None = None
        self.job_result: JobResult | None = None
        self.started = 0.0
        self.finished_at = 0.0
        self.counts: Counter[str] = Counter()
        self.pending: list[JobEvent] = []
        self.events_seen = 0
        self.notified = ""
        self.notify_after = NOTIFY_AFTER
        self.tray: QSystemTrayIcon | None = None
        self.setWindowTitle(spec.title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        self.heading = QLabel(spec.title + (" — preview, nothing is written" if self.dry_run else ""))
        self.heading.setObjectName("sync_heading")
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSize(max(font.pointSize(), 9) + 2)
        self.heading.setFont(font)
        self.phase = QLabel("Queued…")
        self.phase.setObjectName("sync_phase")
        self.bar = QProgressBar()
        self.bar.setObjectName("sync_progress")
        self.bar.setRange(0, 0)
        self.bar.setFormat("%v / %m")
        self.eta = QLabel()
        self.eta.setObjectName("sync_eta")
        self.eta.setMinimumWidth(130)
        self.counters = QLabel()
        self.counters.setObjectName("sync_counts")
        self.counters.setTextFormat(Qt.TextFormat.RichText)
        self.show_combo = QComboBox()
        self.show_combo.setObjectName("sync_show")
        self.show_combo.addItems(list(SHOW))
        self.model = ItemRowsModel(["Task", "Action", "ALM item", "Status", "Message"], url_column=2, parent=self)
        self.proxy = ShowFilter(self.model, self)
        self.table = LinkTable(self.model)  # type: ignore[arg-type]  # RowsModel's interface, in C++
        self.table.setObjectName("sync_table")
        self.table.doubleClicked.connect(self._row_link)
        self.table.setToolTip("Double-click a row to see the task's link on the connection.")
        self._set_widths()
        self.show_combo.currentIndexChanged.connect(self.set_show)
        self.summary = QLabel()
        self.summary.setObjectName("sync_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.hide()
        self.cancel_btn = QPushButton(icon("cancel"), "&Cancel sync" if not self.dry_run else "&Cancel")
        self.cancel_btn.setObjectName("sync_cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn = QPushButton("Close")
        self.close_btn.setObjectName("sync_close")
        self.close_btn.clicked.connect(self.close)
        self.close_btn.setToolTip("Closing the console does not stop the job; it goes on in the job dock.")

        progress = QHBoxLayout()
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.eta)
        progress.addWidget(self.cancel_btn)
        counts = QHBoxLayout()
        counts.addWidget(self.counters, 1)
        counts.addWidget(QLabel("Show:"))
        counts.addWidget(self.show_combo)
        foot = QHBoxLayout()
        foot.addStretch(1)
        foot.addWidget(self.close_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(self.heading)
        lay.addWidget(self.phase)
        lay.addLayout(progress)
        lay.addLayout(counts)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.summary)
        lay.addLayout(foot)
        self.resize(900, 600)
        self.flush_timer = QTimer(self)
        self.flush_timer.setInterval(FLUSH_MS)
        self.flush_timer.timeout.connect(self.flush)
        self.queue: deque[tuple[tuple[Any, ...], str, str]] = deque()  # rows not yet in the table
        self.drain_timer = QTimer(self)
        self.drain_timer.setSingleShot(True)
        self.drain_timer.setInterval(0)
        self.drain_timer.timeout.connect(self._drain)
        self._attached = False
        self._batched: Any = None
        self._submitting = False
        self._progress: tuple[int, int] | None = None
        self.plan_tasks: list[str] = []  # a dry run's rows' task ids (event rows start with theirs)
        self._render_counts()

    def _row_link(self, index: QModelIndex) -> None:
        source = self.proxy.mapToSource(index) if index.model() is self.proxy else index
        n = source.row()
        row = self.model.rows[n] if 0 <= n < len(self.model.rows) else ()
        task = self.plan_tasks[n] if n < len(self.plan_tasks) else task_id_of_event(str(row[0])) if row else ""
        if task and self.spec.connection_id is not None:
            self.show_link.emit(self.spec.connection_id, task)

    def _set_widths(self) -> None:
        for col, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(col, width)

    def set_show(self, mode: int) -> None:
        """All rows (the model itself), changes only or failures only (through the filter proxy)."""
        widths = [self.table.columnWidth(c) for c in range(len(COLUMN_WIDTHS))]
        self.proxy.set_mode(mode)
        model = self.proxy if mode else self.model
        if self.table.model() is not model:
            self.table.setModel(model)
            for col, width in enumerate(widths):
                self.table.setColumnWidth(col, width)
        self._render_counts()

    def view_index(self, row: int, column: int) -> QModelIndex:
        """The table's index of the model's ``row``/``column`` (through the proxy when one is shown)."""
        index = self.model.index(row, column)
        return self.proxy.mapFromSource(index) if self.table.model() is self.proxy else index

    # --- lifecycle ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.handle is None and self.job_result is None:
            self.start()

    @classmethod
    def follow(cls, services: Services, runner: JobRunner, handle: int,
               parent: QWidget | None = None) -> SyncConsole | None:
        """The console of job ``handle`` already queued or running (the one open, else a new one that
        starts with the rows and progress the runner kept); None when the job has ended."""
        open_view = runner.view(handle)
        if isinstance(open_view, SyncConsole):
            return open_view
        job = runner.job(handle)
        if job is None:
            return None
        console = cls(services, runner, job.spec, parent)
        console._attach()
        console.handle = handle
        runner.set_view(handle, console)
        if job.thread is not None:  # started
            console.started = job.started
            console.phase.setText("Connecting…")
        console.pending.extend(job.events)
        if job.progress is not None:
            console._on_progress(handle, *job.progress)
        console.flush()
        console.flush_timer.start()
        return console

    def _attach(self) -> None:
        self.runner.started.connect(self._on_started)
        self.runner.progress.connect(self._on_progress)
        self._batched = getattr(self.runner, "events", None)  # a runner that batches events (list per signal)
        if self._batched is not None:
            self._batched.connect(self._on_events)
        else:
            self.runner.job_event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self._attached = True

    def start(self) -> int:
        """Submit the job (done on first show) and follow its signals."""
        self._attach()
        self._submitting = True  # a started signal during submit() is this job's (nothing else can start)
        try:
            self.handle = self.runner.submit(self.spec)
        finally:
            self._submitting = False
        self.runner.set_view(self.handle, self)
        self.flush_timer.start()
        return self.handle

    def _detach(self) -> None:
        if not self._attached:
            return
        self._attached = False
        self.runner.started.disconnect(self._on_started)
        self.runner.progress.disconnect(self._on_progress)
        if self._batched is not None:
            self._batched.disconnect(self._on_events)
        else:
            self.runner.job_event.disconnect(self._on_event)
        self.runner.finished.disconnect(self._on_finished)
        self.flush_timer.stop()
        if self.handle is not None and self.runner.view(self.handle) is self:
            self.runner.set_view(self.handle, None)

    def cancel(self) -> None:
        if self.handle is not None and self.job_result is None:
            self.cancel_btn.setEnabled(False)
            self.phase.setText("Cancelling… (finishing the request in flight)")
            self.runner.cancel(self.handle)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._detach()
        super().closeEvent(event)

    def done(self, code: int) -> None:
        self._detach()
        super().done(code)

    # --- signals from the runner --------------------------------------------------------------
    def _on_started(self, handle: int, _title: str) -> None:
        if handle == self.handle or (self.handle is None and self._submitting):
            self.started = time.monotonic()
            self.phase.setText("Connecting…")

    def _on_progress(self, handle: int, done: int, total: int, text: str) -> None:
        if handle != self.handle:
            return
        if text:
            self.phase.setText(text)
        if total <= 0:
            self.bar.setRange(0, 0)
            self.eta.clear()
            return
        self._progress = (min(done, total), total)
        self.eta.setText(self.eta_clock.text(done, total))

    def _on_event(self, handle: int, ev: JobEvent) -> None:
        if handle == self.handle:
            self.pending.append(ev)

    def _on_events(self, handle: int, events: list[JobEvent]) -> None:
        if handle == self.handle:
            self.pending.extend(events)

    def _paint_progress(self) -> None:
        """Show the last progress. QProgressBar.setValue repaints synchronously (tens of ms with a big
        table in the window), so updates are switched off around it and one normal paint is queued."""
        if self._progress is None:
            return
        value, total = self._progress
        self._progress = None
        self.bar.setUpdatesEnabled(False)
        self.bar.setRange(0, total)
        self.bar.setValue(value)
        self.bar.setUpdatesEnabled(True)
        self.bar.update()

    def flush(self) -> None:
        """Move queued events into the table in one batch, refresh the counters and the progress bar."""
        self._paint_progress()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        rows, urls, colors = [], [], []
        for ev in batch:
            if ev.status == "failed":
                self.counts["failed"] += 1
            elif ev.status == "planned":
                self.counts["planned"] += 1
            else:
                name = COUNTERS.get((ev.action, ev.status))
                if name:
                    self.counts[name] += 1
                    if ev.action == "create" and "(closed)" in ev.message:
                        self.counts["closed"] += 1
            rows.append((ev.item, ev.action, ev.key or ("open ↗" if ev.url else ""), ev.status, ev.message))
            urls.append(ev.url)
            colors.append(EVENT_COLORS.get(ev.status, ""))
        self.events_seen += len(batch)
        self.queue.extend(zip(rows, urls, colors, strict=True))
        self._render_counts()
        self._drain()

    def _drain(self) -> None:
        """Put the next ``DRAIN_ROWS`` queued rows into the table; come back after the event loop ran."""
        if not self.queue:
            return
        take = [self.queue.popleft() for _ in range(min(DRAIN_ROWS, len(self.queue)))]
        self.model.append_rows([t[0] for t in take], [t[1] for t in take], [t[2] for t in take])
        self._render_counts()
        if self.queue:
            self.drain_timer.start()

    def drained(self) -> bool:
        """Every row received is in the table."""
        return not self.queue and not self.pending

    def _render_counts(self) -> None:
        parts = []
        for name in COUNT_ORDER:
            value = self.counts.get(name, 0)
            if value or name in ("created", "closed", "failed"):
                text = f"{value} {name}"
                if name == "failed" and value:
                    text = f"<span style='{theme.color_css('failed', bold=True)}'>{text}</span>"
                parts.append(text)
        if self.dry_run:
            parts = [f"{self.counts.get('planned', 0)} planned change(s)"]
        total = self.model.rowCount()
        shown = self.proxy.rowCount() if self.proxy.mode else total
        rows = f"{total} row(s)" if shown == total else f"showing {shown} of {total} row(s)"
        self.counters.setText(" · ".join(parts) + f" · {rows}")

    def _on_finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self.handle:
            return
        self.flush()
        self._paint_progress()
        self._detach()
        self.job_result = result
        self.finished_at = time.monotonic()
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.hide()
        self.eta.clear()
        if result is None or result.state == "cancelled":
            if self.bar.maximum() == 0:  # never got a total: stop the busy animation
                self.bar.setRange(0, 1)
                self.bar.setValue(0)
            self.phase.setText("Cancelled.")
            text = "Cancelled before it started." if result is None else result.outcome.message
            self._summary(text + " A later sync resumes where this one stopped.", "warning")
            return
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        ok = result.state == "succeeded"
        self.phase.setText("Finished." if ok else "Finished with failures.")
        data: dict[str, Any] = result.outcome.data
        if self.dry_run and isinstance(data.get("plan"), list):
            self.show_plan(data["plan"])
        message = result.outcome.message
        hint = result.outcome.why().hint
        if hint and hint not in message:
            message += "\n" + hint
        seconds = self.finished_at - (self.started or self.finished_at)
        requests = f", {data['requests']} HTTP request(s)" if isinstance(data.get("requests"), int) else ""
        self._summary(("✔ " if ok else "✖ ") + message + f"\n({duration(seconds)}{requests})",
                      "ok" if ok else "failed")
        if seconds > self.notify_after and not self.isActiveWindow():
            self.notify(result.outcome.message, ok)

    def _summary(self, text: str, tone: str) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet(theme.color_css(tone, bold=True))
        self.summary.show()

    def show_plan(self, plan: list[dict[str, Any]]) -> None:
        """Replace the rows with the dry run's plan (task, action, ALM item, reason)."""
        rows, urls, colors = [], [], []
        for entry in plan:
            task_id, title = str(entry.get("task_id", "")), str(entry.get("title", ""))
            task = title if task_id and task_id in title else f"{task_id} {title}".strip()
            action = str(entry.get("action", ""))
            key = entry.get("alm_key", "") or ("open ↗" if entry.get("url") else "—")
            rows.append((task, action, key, "skipped" if action == "skip" else "planned", entry.get("reason", "")))
            urls.append(str(entry.get("url") or ""))
            colors.append(EVENT_COLORS["skipped"] if action == "skip" else "")
        self.queue.clear()
        self.model.set_rows([])
        self.plan_tasks = [str(entry.get("task_id", "")) for entry in plan]  # the rows' tasks, in order
        self.queue.extend(zip(rows, urls, colors, strict=True))
        self.counts = Counter({"planned": sum(1 for e in plan if e.get("action") not in ("skip", "link"))})
        self._render_counts()
        self._drain()

    def notify(self, message: str, ok: bool) -> str:
        """Tell a user who is elsewhere that the sync ended: tray message, else the status bar."""
        title = f"{self.spec.title}: {'finished' if ok else 'failed'}"
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.show()
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information if ok
                                  else QSystemTrayIcon.MessageIcon.Warning, 10000)
            self.notified = "tray"
            return self.notified
        window = self.parent()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(f"{title} — {message}", 30000)
            self.notified = "status bar"
        else:
            self.notified = "none"
        return self.notified

