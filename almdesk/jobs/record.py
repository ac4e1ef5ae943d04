"""Recording job runs in the store: the job row, its per-item events, and the connection's last job.

:func:`run_recorded` is how the CLI and the GUI worker run every job: it creates the row, runs the
plain callable with a :class:`JobContext`, and stores the outcome (succeeded, failed, cancelled).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from almdesk.errors import CancelledError, UserFacingError
from almdesk.jobs.context import Failure, JobContext, JobEvent, JobOutcome
from almdesk.models import Connection, Job, JobEventRow, Store

log = logging.getLogger(__name__)

JobFn = Callable[[JobContext], JobOutcome]
EVENT_BATCH = 200
LOG_LINES = 200


@dataclass
class JobSpec:
    """What to run: kind, target ids, a title for the lists, and the callable."""

    kind: str
    title: str
    fn: JobFn
    connector_id: int | None = None
    connection_id: int | None = None
    automatic: bool = False
    trace_path: str = ""


@dataclass
class JobResult:
    job_id: int
    state: str  # succeeded | failed | cancelled
    outcome: JobOutcome
    error: BaseException | None = None


class JobRecorder:
    """Writes job rows and buffered events; thread-safe."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[int, JobEvent]] = []
        self._lock = threading.Lock()

    def start(self, spec: JobSpec) -> int:
        with self.store.session() as s:
            job = Job(kind=spec.kind, title=spec.title, connector_id=spec.connector_id,
                      connection_id=spec.connection_id, automatic=spec.automatic, state="running",
                      in_progress=True, started=datetime.now(UTC), trace_path=spec.trace_path,
                      data={"pid": os.getpid()})
            s.add(job)
            if spec.connection_id is not None:
                conn = s.get(Connection, spec.connection_id)
                if conn is not None:
                    conn.in_progress = True
            s.flush()
            return job.id

    def event(self, job_id: int, event: JobEvent) -> None:
        with self._lock:
            self._pending.append((job_id, event))
            full = len(self._pending) >= EVENT_BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        # one executemany INSERT, not ORM objects: 5,000 events cost ~0.4 s as objects
        rows = [{"job_id": jid, "time": e.time, "item": e.item[:300], "action": e.action[:40],
                 "status": e.status[:12], "message": e.message, "url": e.url} for jid, e in pending]
        with self.store.session() as s:
            s.execute(insert(JobEventRow), rows)

    def finish(self, job_id: int, state: str, message: str, counts: dict[str, int], data: dict[str, Any],
               seconds: float) -> None:
        self.flush()
        with self.store.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            job.state = state
            job.in_progress = False
            job.succeeded = state == "succeeded"
            job.last_run = datetime.now(UTC)
            job.seconds = seconds
            job.result_message = message
            job.counts = dict(counts)
            job.data = data
            if job.connection_id is not None:
                conn = s.get(Connection, job.connection_id)
                if conn is not None:
                    conn.in_progress = False
                    conn.last_job_id = job.id


def run_recorded(store: Store, spec: JobSpec, ctx: JobContext | None = None,
                 on_event: Callable[[JobEvent], None] | None = None) -> JobResult:
    """Run ``spec.fn`` with recording. Never raises for job failures: they end up in the result."""
    recorder = JobRecorder(store)
    job_id = recorder.start(spec)
    ctx = ctx or JobContext()
    ctx.job_id = job_id
    previous = ctx._on_event

    def forward(ev: JobEvent) -> None:
        recorder.event(job_id, ev)
        for cb in (previous, on_event):
            if cb:
                cb(ev)

    ctx._on_event = forward
    started = time.monotonic()
    error: BaseException | None = None
    try:
        outcome = spec.fn(ctx)
        state = "succeeded" if outcome.succeeded else "failed"
    except CancelledError:
        outcome = JobOutcome(False, "Cancelled by the user.", dict(ctx.counts))
        state = "cancelled"
    except UserFacingError as exc:
        error = exc
        outcome = JobOutcome(False, str(exc), dict(ctx.counts), failure=Failure.of(exc))
        state = "failed"
    except Exception as exc:  # a bug: keep the traceback in the log, say so plainly
        error = exc
        log.error("job %s (%s) crashed:\n%s", job_id, spec.kind, traceback.format_exc())
        outcome = JobOutcome(False, f"Internal error: {type(exc).__name__}: {exc}. See the log for details.",
                             dict(ctx.counts))
        state = "failed"
    finally:
        ctx._on_event = previous
    outcome.counts = counts = {**dict(ctx.counts), **outcome.counts}
    if outcome.steps:  # the typed parts, kept with the row and printed by --json
        outcome.data["steps"] = [asdict(r) for r in outcome.steps]
    if outcome.failure is not None:
        outcome.data.update(hint=outcome.failure.hint, field=outcome.failure.field)
    data = _jsonable(outcome.data)
    if ctx.lines:  # the job log (waits, warnings) is kept with the job, the newest lines last
        data["log"] = [[level, message] for level, message in ctx.lines[-LOG_LINES:]]
    recorder.finish(job_id, state, outcome.message, counts, data, time.monotonic() - started)
    return JobResult(job_id, state, outcome, error)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    import json

    try:
        json.dumps(data)
        return data
    except TypeError:
        return {k: v for k, v in data.items() if _is_json(v)}


def _is_json(value: Any) -> bool:
    import json

    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


def job_events(store: Store, job_id: int, limit: int = 10000) -> list[JobEventRow]:
    with store.session() as s:
        return list(s.scalars(select(JobEventRow).where(JobEventRow.job_id == job_id)
                              .order_by(JobEventRow.id).limit(limit)))


INTERRUPTED = "Interrupted: almdesk stopped while this job ran. A new sync resumes where it stopped."


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(store: Store) -> int:
    """Mark jobs whose process died (crash, kill) as failed, and free their connections."""
    with store.session() as s:
        stale = [job for job in s.scalars(select(Job).where(Job.in_progress.is_(True)))
                 if not _alive((job.data or {}).get("pid"))]
        for job in stale:
            job.state, job.in_progress, job.succeeded = "failed", False, False
            job.result_message = INTERRUPTED
            job.last_run = job.last_run or datetime.now(UTC)
            if job.connection_id is not None:
                conn = s.get(Connection, job.connection_id)
                if conn is not None and conn.in_progress:
                    conn.in_progress = False
                    conn.last_job_id = job.id
        return len(stale)
