"""Jobs left running by a process that died are marked interrupted at the next start; live ones are not."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import INTERRUPTED, JobSpec, run_recorded
from almdesk.models import Connection, Connector, Job, Project, Store
from almdesk.services import Services


def test_dead_process_jobs_are_interrupted(data_dir: Path, registry) -> None:  # type: ignore[no-untyped-def]
    dead = subprocess.Popen(["true"])
    dead.wait()
    store = Store(data_dir / "almdesk.db")
    with store.session() as s:
        connector = Connector(name="c", system="toy", params={})
        project = Project(name="p")
        s.add_all([connector, project])
        s.flush()
        conn = Connection(alias="a", connector_id=connector.id, project_id=project.id, in_progress=True)
        s.add(conn)
        s.flush()
        started = datetime.now(UTC)
        s.add(Job(kind="sync", connection_id=conn.id, state="running", in_progress=True, started=started,
                  data={"pid": dead.pid}))
        s.add(Job(kind="sync", connection_id=conn.id, state="running", in_progress=True, started=started,
                  data={"pid": os.getpid()}))
    store.close()

    services = Services.open(data_dir, registry=registry)
    with services.store.session() as s:
        jobs = {j.data.get("pid"): j for j in s.query(Job)}
        assert jobs[dead.pid].state == "failed" and jobs[dead.pid].result_message == INTERRUPTED
        assert jobs[os.getpid()].state == "running"  # this process is alive: not touched
        conn = s.query(Connection).one()
        assert conn.in_progress is False and conn.last_job_id == jobs[dead.pid].id
    services.close()


def test_run_recorded_gives_the_job_its_id(services: Services) -> None:
    seen: list[int | None] = []

    def fn(ctx: JobContext) -> JobOutcome:
        seen.append(ctx.job_id)
        return JobOutcome(True, "ok")

    result = run_recorded(services.store, JobSpec("test", "t", fn))
    assert seen == [result.job_id]


def test_job_log_is_kept_with_the_job(services: Services) -> None:
    def fn(ctx: JobContext) -> JobOutcome:
        ctx.log("GitHub asked us to wait; waiting 2.0 s (retry-after)", "warning")
        return JobOutcome(True, "ok")

    result = run_recorded(services.store, JobSpec("test", "t", fn))
    from almdesk.jobs.history import get_job

    job = get_job(services.store, result.job_id)
    assert job is not None and job["data"]["log"] == [["warning", "GitHub asked us to wait; waiting 2.0 s (retry-after)"]]
