"""Job reports: a desktop run of a mirrored connection, in the server's ALM job history.

When a sync, dry run, test or gate of a local connection that mirrors a server connection ends,
:func:`enqueue` stores ``{connection, succeeded, result_message}`` (one row per local job: the
job id is unique) and :func:`flush` sends what is queued, oldest first. Each message ends with a
marker (``[almdesk job N · token]``). A report is ``sending`` while its POST is under way; one
found ``sending`` later (almdesk stopped, the server failed or did not answer) is first looked for
on the server by its marker and only sent again when the server does not have it: never lost, never
sent twice. A report the server refuses (4xx other than 429, e.g. a deleted connection) is kept as
``refused`` with the server's words.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from almdesk.errors import RemoteError, UserFacingError
from almdesk.models import Job, JobReport, RemoteItem, Store
from almdesk.systems.sdelements.client import SdeClient

log = logging.getLogger(__name__)
KINDS = frozenset({"sync", "dry-run", "test-connection", "gate"})
MESSAGE_MAX = 1000
MAX_WAIT = 10.0  # a throttled server does not hold a job's end longer than this; the report waits instead


def enqueue(store: Store, job_id: int) -> int | None:
    """Queue the report of job ``job_id`` when its connection mirrors a server connection; the source
    connector's id, or None when there is nothing to report."""
    with store.session() as s:
        job = s.get(Job, job_id)
        if job is None or job.kind not in KINDS or job.connection_id is None or job.state not in (
                "succeeded", "failed"):
            return None
        mirror = s.scalars(select(RemoteItem).where(RemoteItem.connection_id == job.connection_id,
                                                    RemoteItem.kind == "connection",
                                                    RemoteItem.server_id.is_not(None))).first()
        if mirror is None or mirror.server_id is None:
            return None
        if s.scalar(select(JobReport.id).where(JobReport.job_id == job_id)) is not None:
            return mirror.source_id
        marker = f" [almdesk job {job_id} · {uuid.uuid4().hex[:10]}]"
        text = f"{job.kind}: {job.result_message}"[: MESSAGE_MAX - len(marker)] + marker
        s.add(JobReport(source_id=mirror.source_id, job_id=job_id, server_connection=mirror.server_id,
                        succeeded=bool(job.succeeded), result_message=text))
        return mirror.source_id


def pending(store: Store, source: int | None = None) -> list[dict[str, Any]]:
    with store.session() as s:
        query = select(JobReport).where(JobReport.state.in_(("queued", "sending")))
        if source is not None:
            query = query.where(JobReport.source_id == source)
        return [{"id": r.id, "job_id": r.job_id, "state": r.state, "attempts": r.attempts,
                 "last_error": r.last_error, "source_id": r.source_id} for r in s.scalars(query.order_by(JobReport.id))]


def _marker(message: str) -> str:
    return message[message.rfind(" [almdesk job "):].strip()


def _on_server(client: SdeClient, connection: int, marker: str) -> int | None:
    for page in client.pages("jobs/alm/", what="looking for a job report already sent",
                             params={"connection": connection}):
        for job in page:
            if isinstance(job, dict) and str(job.get("result_message") or "").endswith(marker):
                return int(job["id"])
    return None


def _mark(store: Store, report_id: int, **values: Any) -> None:
    with store.session() as s:
        row = s.get(JobReport, report_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def flush(store: Store, source: int, client_for: Callable[[], SdeClient]) -> dict[str, int]:
    """Send the queued reports of SD Elements connector ``source``; stops at the first server that
    cannot be reached (the rest wait for the next flush). Counts by outcome."""
    counts = {"sent": 0, "already": 0, "waiting": 0, "refused": 0}
    todo = pending(store, source)
    if not todo:
        return counts
    client = client_for()
    client.max_wait = min(client.max_wait, MAX_WAIT)
    try:
        for i, item in enumerate(todo):
            with store.session() as s:
                row = s.get(JobReport, item["id"])
                assert row is not None
                connection = row.server_connection
                body: dict[str, Any] = {"connection": connection, "succeeded": row.succeeded,
                        "result_message": row.result_message}
                state, marker = row.state, _marker(row.result_message)
            try:
                if state == "sending":
                    found = _on_server(client, connection, marker)
                    if found is not None:
                        _mark(store, item["id"], state="sent", server_job=found, sent=datetime.now(UTC))
                        counts["already"] += 1
                        continue
                _mark(store, item["id"], state="sending", attempts=item["attempts"] + 1)
                response = client.request("POST", "jobs/alm/", what="reporting a desktop job to SD Elements",
                                          body=body)
            except UserFacingError as exc:
                _mark(store, item["id"], last_error=exc.message)
                counts["waiting"] += len(todo) - i
                log.warning("job report %s not sent yet: %s", item["job_id"], exc.message)
                return counts
            if response.status_code in (200, 201):
                answer = client.json(response, "reporting a desktop job")
                job = answer.get("id") if isinstance(answer, dict) else None
                _mark(store, item["id"], state="sent", sent=datetime.now(UTC), last_error="",
                      server_job=job if isinstance(job, int) else None)
                counts["sent"] += 1
            elif 400 <= response.status_code < 500 and response.status_code != 429:
                error = client.error_for(response, "reporting a desktop job")
                _mark(store, item["id"], state="refused", last_error=error.message)
                counts["refused"] += 1
            else:  # 5xx or throttled: the fate is unknown; looked for on the server before any resend
                error = client.error_for(response, "reporting a desktop job")
                _mark(store, item["id"], last_error=error.message)
                counts["waiting"] += len(todo) - i
                return counts
    finally:
        client.close()
    return counts


def after_job(store: Store, job_id: int, client_for: Callable[[int], SdeClient]) -> dict[str, int] | None:
    """Queue job ``job_id``'s report if it has one, then flush that server's queue; never raises for
    the server (the report waits for the next flush)."""
    source = enqueue(store, job_id)
    if source is None:
        return None
    try:
        return flush(store, source, lambda: client_for(source))
    except (UserFacingError, RemoteError) as exc:
        log.warning("job reports to SD Elements wait: %s", exc.message)
        return {"sent": 0, "waiting": len(pending(store, source))}
