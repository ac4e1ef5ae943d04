"""Reading job history for the Jobs view and ``almdesk jobs``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from almdesk.models import Connection, Job, Store


def job_dict(job: Job, alias: str = "") -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "title": job.title, "connection": alias, "state": job.state,
            "succeeded": job.succeeded, "automatic": job.automatic,
            "started": job.started.isoformat() if job.started else None,
            "last_run": job.last_run.isoformat() if job.last_run else None, "seconds": round(job.seconds, 3),
            "result_message": job.result_message, "counts": dict(job.counts), "trace_path": job.trace_path,
            "connection_id": job.connection_id, "connector_id": job.connector_id}


def recent_jobs(store: Store, *, connection_id: int | None = None, kind: str | None = None,
                state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    with store.session() as s:
        q = select(Job, Connection.alias).outerjoin(Connection, Connection.id == Job.connection_id)
        if connection_id is not None:
            q = q.where(Job.connection_id == connection_id)
        if kind:
            q = q.where(Job.kind == kind)
        if state:
            q = q.where(Job.state == state)
        rows = s.execute(q.order_by(Job.id.desc()).limit(limit)).all()
        return [job_dict(job, alias or "") for job, alias in rows]


def get_job(store: Store, job_id: int) -> dict[str, Any] | None:
    with store.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return None
        alias = job.connection_id and s.get(Connection, job.connection_id)
        out = job_dict(job, alias.alias if alias else "")
        out["data"] = dict(job.data)
        return out
