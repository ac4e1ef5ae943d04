"""Read-only queries the views show: a connection's last job, its identity problem; a job's events
(counted and paged, settled), the stored data of jobs (a failed gate's tells whether it ran) and one
job's details as typed fields (:class:`JobDetail`: the stored failure's hint apart from its message).

Widgets only draw: they call these instead of opening store sessions. Each function takes the
store (and the registry where systems are needed) and returns plain values; none writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from almdesk.jobs.history import get_job
from almdesk.models import Job, JobEventRow, Store
from almdesk.systems.registry import Registry


@dataclass(frozen=True)
class JobSummary:
    """One job as a connection list shows it."""

    id: int
    succeeded: bool
    state: str
    last_run: str
    message: str
    connection_id: int | None

    @property
    def line(self) -> str:
        """'✔ message' / '✖ message', for a list cell."""
        return f"{'✔' if self.succeeded else '✖'} {self.message}"

    @property
    def detail(self) -> str:
        """'state · when · message', for the editor's Last job."""
        return f"{self.state} · {self.last_run} · {self.message}"


def job_summary(store: Store, job_id: int | None) -> JobSummary | None:
    """The job ``job_id`` (None when there is none or it is gone)."""
    job = get_job(store, job_id) if job_id else None
    if job is None:
        return None
    cid = job.get("connection_id")
    return JobSummary(int(job["id"]), bool(job["succeeded"]), str(job["state"]), str(job["last_run"] or ""),
                      str(job["result_message"] or ""), int(cid) if cid is not None else None)


def last_jobs(store: Store, ids: list[int]) -> dict[int, tuple[bool, str]]:
    """(succeeded, result message) of each job in ``ids``: plain columns, one query per 500 ids."""
    out: dict[int, tuple[bool, str]] = {}
    with store.session() as s:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            out.update((r[0], (bool(r[1]), r[2] or "")) for r in s.execute(
                select(Job.id, Job.succeeded, Job.result_message).where(Job.id.in_(chunk))))
    return out


def identity_problem(store: Store, registry: Registry, connection_id: int) -> str:
    """The sync-identity conflict of a saved connection as one line ("" when there is none)."""
    from almdesk.sync.identity import identity_problem as problem

    return problem(store, registry, connection_id)


@dataclass(frozen=True)
class EventRow:
    """One recorded job event as the Jobs page lists it (``time``: Unix seconds)."""

    id: int
    time: float
    item: str
    action: str
    status: str
    message: str
    url: str


def _settled() -> ColumnElement[bool]:
    """Leave out "running" events of steps that later reported their result (Test Connection's steps)."""
    later = aliased(JobEventRow)
    ended = exists().where(and_(later.job_id == JobEventRow.job_id, later.item == JobEventRow.item,
                                later.action == JobEventRow.action, later.status != "running"))
    return (JobEventRow.status != "running") | ~ended


def event_counts(store: Store, job_id: int) -> tuple[int, int]:
    """(all, failed) settled events of job ``job_id``, counted in SQL."""
    with store.session() as s:
        total, failed = s.execute(
            select(func.count(), func.sum(case((JobEventRow.status == "failed", 1), else_=0)))
            .where(JobEventRow.job_id == job_id, _settled())).one()
    return int(total or 0), int(failed or 0)


def event_page(store: Store, job_id: int, after_id: int, limit: int) -> list[EventRow]:
    """Up to ``limit`` settled events of job ``job_id`` with an id above ``after_id``, oldest first."""
    e = JobEventRow
    with store.session() as s:
        page = s.execute(select(e.id, e.time, e.item, e.action, e.status, e.message, e.url)
                         .where(e.job_id == job_id, e.id > after_id, _settled())
                         .order_by(e.id).limit(limit)).all()
    return [EventRow(int(r[0]), float(r[1] or 0.0), str(r[2] or ""), str(r[3] or ""), str(r[4] or ""),
                     str(r[5] or ""), str(r[6] or "")) for r in page]


def job_data(store: Store, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored ``data`` of the jobs ``ids`` (one query per 500 ids; a job that is gone is left out)."""
    out: dict[int, dict[str, Any]] = {}
    if not ids:
        return out
    with store.session() as s:
        for i in range(0, len(ids), 500):
            out.update((int(j), dict(d or {})) for j, d in
                       s.execute(select(Job.id, Job.data).where(Job.id.in_(ids[i:i + 500]))))
    return out


@dataclass(frozen=True)
class JobDetail:
    """One recorded job as its details show it. ``message`` is the result without the stored failure's
    ``hint`` (the recorder appends it as " — hint"); ``query`` is a gate's; ``log`` the (level, text) lines;
    ``record`` the job's history row (:func:`~almdesk.jobs.history.get_job`), ``data`` its stored data."""

    id: int
    kind: str
    title: str
    state: str
    automatic: bool
    started: str | None
    seconds: float
    message: str
    hint: str
    counts: dict[str, int]
    query: str
    requests: int
    log: list[tuple[str, str]]
    trace_path: str
    data: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)


def job_detail(store: Store, job_id: int) -> JobDetail | None:
    """Job ``job_id``'s details (None when it is gone)."""
    job = get_job(store, job_id)
    if job is None:
        return None
    data = dict(job.get("data") or {})
    hint = str(data.get("hint") or "")
    message = str(job["result_message"] or "")
    if hint and message.endswith(f" — {hint}"):  # the stored message carries the hint: keep it once
        message = message[: -len(f" — {hint}")]
    log = [(str(level), str(text)) for level, text in (data.get("log") or [])]
    query = str(data["query"]) if job["kind"] == "gate" and "query" in data else ""
    return JobDetail(int(job["id"]), str(job["kind"]), str(job["title"]), str(job["state"]), bool(job["automatic"]),
                     job["started"], float(job["seconds"] or 0.0), message, hint,
                     {str(k): int(v) for k, v in dict(job["counts"] or {}).items()}, query,
                     int(data.get("requests") or 0), log, str(job["trace_path"] or ""), data, job)
