"""Read-only queries the views show: a connection's last job, its identity problem.

Widgets only draw: they call these instead of opening store sessions. Each function takes the
store (and the registry where systems are needed) and returns plain values; none writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from almdesk.jobs.history import get_job
from almdesk.models import Job, Store
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
