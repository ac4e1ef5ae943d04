"""Runs jobs off the UI thread: one worker QThread per running job, one serial queue per connector.

The UI submits a :class:`~almdesk.jobs.record.JobSpec`; the worker runs it through
:func:`~almdesk.jobs.record.run_recorded` and reports through signals only. Cancel sets the job's
event (never ``QThread.terminate``).

One handle per job: :meth:`JobRunner.job` is a running job's record (its spec, store job id, the
events so far, the latest progress), so a view opened while the job runs (the sync console reopened
from the dock) starts where the job is; :meth:`JobRunner.set_view` / :meth:`JobRunner.view` name the
window following a job. Progress is sent at most every ``PROGRESS_INTERVAL`` but never lost: the
latest value of a burst (50 items created at once) is sent by the runner's timer shortly after.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from almdesk.jobs.context import JobContext, JobEvent
from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services

PROGRESS_INTERVAL = 0.05  # seconds between progress signals a worker sends


class _Worker(QObject):
    """Runs one job in its thread.

    Signals: progress(handle, seq, done, total, text) — ``seq`` counts the job's progress calls, so the
    runner drops one that arrives after a newer value it already sent —, job_event(handle, JobEvent),
    done(handle, JobResult).
    Every signal carries the handle so the runner can connect them to its own slots (queued into
    the UI thread).
    """

    progress = Signal(int, int, int, int, str)
    job_event = Signal(int, object)
    done = Signal(int, object)

    def __init__(self, handle: int, services: Services, spec: JobSpec, ctx: JobContext) -> None:
        super().__init__()
        self.handle = handle
        self.services = services
        self.spec = spec
        self.ctx = ctx
        self._last = 0.0
        self.seq = 0
        self.latest: tuple[int, int, int, str] | None = None  # (seq, done, total, text): read by the runner's timer

    def _progress(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        self.seq += 1
        self.latest = (self.seq, done, total, text)  # one assignment: the UI thread reads it whole
        if done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self.progress.emit(self.handle, self.seq, done, total, text)

    def _event(self, ev: JobEvent) -> None:
        self.job_event.emit(self.handle, ev)

    @Slot()
    def run(self) -> None:
        self.ctx._on_progress = self._progress
        result = self.services.run(self.spec, self.ctx, on_event=self._event)
        self.done.emit(self.handle, result)


@dataclass
class RunningJob:
    handle: int
    spec: JobSpec
    queue: str
    ctx: JobContext = field(default_factory=JobContext)
    thread: QThread | None = None
    worker: _Worker | None = None
    started: float = 0.0
    events: list[JobEvent] = field(default_factory=list)  # the item events so far (a view opened late reads them)
    progress: tuple[int, int, str] | None = None  # the latest progress signalled
    progress_seq: int = 0  # its sequence number (see _Worker)

    @property
    def job_id(self) -> int | None:
        """The job's row in the store (None until it started)."""
        return self.ctx.job_id


class JobRunner(QObject):
    """Queues and runs jobs.

    Signals: queued(handle, title), started(handle, title), progress(handle, done, total, text),
    job_event(handle, JobEvent), finished(handle, JobResult).
    """

    queued = Signal(int, str)
    started = Signal(int, str)
    progress = Signal(int, int, int, str)
    job_event = Signal(int, object)
    finished = Signal(int, object)

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._ids = itertools.count(1)
        self._queues: dict[str, deque[RunningJob]] = {}
        self._running: dict[str, RunningJob] = {}
        self.jobs: dict[int, RunningJob] = {}
        self._views: dict[int, QWidget] = {}
        self.flush_timer = QTimer(self)
        self.flush_timer.setInterval(round(PROGRESS_INTERVAL * 4000))
        self.flush_timer.timeout.connect(self._send_latest)
        self.job_event.connect(self._keep_event)

    def job(self, handle: int) -> RunningJob | None:
        """The queued or running job of ``handle`` (None once it ended)."""
        return self.jobs.get(handle)

    def handle_of(self, job_id: int) -> int | None:
        """The handle of the running job recorded as ``job_id`` in the store (None: not run here, or ended)."""
        return next((h for h, job in self.jobs.items() if job.job_id == job_id), None)

    def set_view(self, handle: int, view: QWidget | None) -> None:
        """``view`` follows the job ``handle`` (None: no longer); it is forgotten when it is destroyed."""
        if view is None:
            self._views.pop(handle, None)
            return
        self._views[handle] = view
        view.destroyed.connect(lambda _o=None, h=handle, v=view: self._forget(h, v))

    def _forget(self, handle: int, view: QWidget) -> None:
        if self._views.get(handle) is view:  # not a newer view of the same job
            del self._views[handle]

    def view(self, handle: int) -> QWidget | None:
        """The window following job ``handle`` (a sync console), if one is open."""
        return self._views.get(handle)

    @Slot(int, object)
    def _keep_event(self, handle: int, ev: JobEvent) -> None:
        job = self.jobs.get(handle)
        if job is not None:
            job.events.append(ev)

    @Slot(int, int, int, int, str)
    def _relay(self, handle: int, seq: int, done: int, total: int, text: str) -> None:
        """A worker's progress, unless a newer one was already sent (by :meth:`_send_latest`)."""
        job = self.jobs.get(handle)
        if job is None or seq <= job.progress_seq:
            return
        job.progress, job.progress_seq = (done, total, text), seq
        self.progress.emit(handle, done, total, text)

    def _send_latest(self) -> None:
        """Send the latest progress a worker had to hold back (the rest of a burst)."""
        for job in list(self._running.values()):
            latest = job.worker.latest if job.worker is not None else None
            if latest is not None:
                self._relay(job.handle, *latest)

    def submit(self, spec: JobSpec, queue: str | None = None) -> int:
        """Queue ``spec`` behind other jobs of the same connector; returns a handle for cancel()."""
        key = queue or f"connector:{spec.connector_id}"
        job = RunningJob(next(self._ids), spec, key)
        self.jobs[job.handle] = job
        self._queues.setdefault(key, deque()).append(job)
        self.queued.emit(job.handle, spec.title)
        self._pump(key)
        return job.handle

    def cancel(self, handle: int) -> None:
        job = self.jobs.get(handle)
        if job is None:
            return
        job.ctx.cancel()
        queue = self._queues.get(job.queue)
        if queue and job in queue:  # not started yet: drop it
            queue.remove(job)
            self.jobs.pop(handle, None)
            self.finished.emit(handle, None)

    def busy(self) -> bool:
        return bool(self._running)

    def _pump(self, key: str) -> None:
        if key in self._running or not self._queues.get(key):
            return
        job = self._queues[key].popleft()
        self._running[key] = job
        thread = QThread(self)
        worker = _Worker(job.handle, self.services, job.spec, job.ctx)
        worker.moveToThread(thread)
        job.thread, job.worker, job.started = thread, worker, time.monotonic()
        worker.progress.connect(self._relay)
        worker.job_event.connect(self.job_event)
        worker.done.connect(self._done)
        thread.started.connect(worker.run)
        thread.start()
        if not self.flush_timer.isActive():
            self.flush_timer.start()
        self.started.emit(job.handle, job.spec.title)

    @Slot(int, object)
    def _done(self, handle: int, result: JobResult) -> None:
        job = self.jobs.pop(handle)
        self._running.pop(job.queue, None)
        if job.thread is not None:
            job.thread.quit()
            job.thread.wait()
            job.thread.deleteLater()
        if job.worker is not None:
            job.worker.deleteLater()
        if not self._running:
            self.flush_timer.stop()
        self.finished.emit(handle, result)
        self._pump(job.queue)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything and wait for the workers (at quit)."""
        for job in list(self.jobs.values()):
            job.ctx.cancel()
        for job in list(self._running.values()):
            if job.thread is not None:
                job.thread.quit()
                job.thread.wait(timeout_ms)
