"""The queries and job specs the Jobs and Projects pages call (``services.queries``, ``services.tasks``,
``services.specs``), against the real SQLite file: jobs are recorded by ``Services.run``, tasks written by
the importer, and what the functions return is read back as the plain values the views draw."""

from __future__ import annotations

import zipfile
from pathlib import Path

from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.history import get_job
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.services.queries import EventRow, event_counts, event_page, job_data, job_detail
from almdesk.services.specs import bundle_spec
from almdesk.services.tasks import (
    TaskFilter,
    import_available,
    import_spec,
    task_count,
    task_page,
    task_phases,
    tasks_ahead,
)
from almdesk.sync.demo import write_demo_tasks
from almdesk.sync.tasks_io import TaskRow, upsert_tasks


def _events_job(ctx: JobContext) -> JobOutcome:
    ctx.event("DNS", "step", "running")
    ctx.event("DNS", "step", "ok", "resolved")  # the step's "running" above is then left out
    ctx.event("TLS", "step", "running")  # still running: shown
    for i in range(5):
        ctx.event(f"T{i}", "create", "failed" if i in (1, 3) else "ok", f"m{i}", f"https://alm.example/{i}")
    return JobOutcome(False, "2 failed", data={"ran": True, "query": "q"})


def test_events_are_counted_settled_and_paged(services: Services) -> None:
    result = services.run(JobSpec("sync", "Events", _events_job))
    jid = result.job_id
    assert event_counts(services.store, jid) == (7, 2)
    first = event_page(services.store, jid, 0, 3)
    assert [(e.item, e.action, e.status) for e in first] == [("DNS", "step", "ok"), ("TLS", "step", "running"),
                                                            ("T0", "create", "ok")]
    assert all(isinstance(e, EventRow) for e in first) and first[0].message == "resolved"
    rest = event_page(services.store, jid, first[-1].id, 10)
    assert [e.item for e in rest] == ["T1", "T2", "T3", "T4"]
    assert rest[0].status == "failed" and rest[0].url == "https://alm.example/1" and rest[0].time > 0
    assert event_page(services.store, jid, rest[-1].id, 10) == []
    assert event_counts(services.store, jid + 99) == (0, 0) and event_page(services.store, jid + 99, 0, 5) == []


def test_job_data_reads_the_stored_data_of_the_jobs_asked(services: Services) -> None:
    failed = services.run(JobSpec("gate", "Gate", _events_job)).job_id
    plain = services.run(JobSpec("gate", "Plain", lambda _ctx: JobOutcome(True, "ok"))).job_id
    assert job_data(services.store, [failed, plain, failed + 100]) == {failed: {"ran": True, "query": "q"},
                                                                        plain: {}}
    assert job_data(services.store, []) == {}


def _refused(ctx: JobContext) -> JobOutcome:
    ctx.log("retrying once", "warning")
    ctx.counts["created"] += 2
    raise ConfigError("Host not found.", "Check the URL.", field="url")


def test_job_detail_types_a_recorded_job_and_keeps_the_hint_apart(services: Services) -> None:
    jid = services.run(JobSpec("sync", "Refused", _refused)).job_id
    detail = job_detail(services.store, jid)
    assert detail is not None and (detail.id, detail.kind, detail.title, detail.state) == (jid, "sync", "Refused",
                                                                                          "failed")
    assert (detail.message, detail.hint) == ("Host not found.", "Check the URL.")
    assert detail.record["result_message"] == "Host not found. — Check the URL."  # as stored
    assert detail.counts == {"created": 2} and detail.log == [("warning", "retrying once")]
    assert detail.query == "" and detail.requests == 0 and detail.trace_path == "" and not detail.automatic
    assert detail.data["field"] == "url" and detail.started is not None
    gate = job_detail(services.store, services.run(JobSpec("gate", "Gate", _events_job)).job_id)
    assert gate is not None and gate.query == "q" and gate.hint == "" and gate.message == "2 failed"
    assert job_detail(services.store, jid + 99) is None


def _tasks(services: Services) -> int:
    pid = services.config.add_project("Shop")
    rows = [TaskRow(f"T{i}", f"Task {i}", phase=("design", "development", "testing")[i % 3], priority=1 + i % 10,
                    status=("TODO", "DONE")[i % 2], tags=("api",) if i % 4 == 0 else ()) for i in range(1, 31)]
    rows.append(TaskRow("T99", "100%_done? a\\b", phase="testing", priority=9))
    upsert_tasks(services.store, pid, rows)
    other = services.config.add_project("Other")
    upsert_tasks(services.store, other, [TaskRow("T1", "Elsewhere", phase="zzz")])
    return pid


def test_tasks_are_filtered_counted_and_paged_by_row_id(services: Services) -> None:
    pid = _tasks(services)
    store = services.store
    assert task_count(store, pid) == 31
    assert task_phases(store, pid) == ["design", "development", "testing"]
    assert task_count(store, pid, TaskFilter(phase="testing")) == 11
    assert task_count(store, pid, TaskFilter(status="DONE")) == 15
    assert task_count(store, pid, TaskFilter(min_priority=9)) == 7  # priorities 9, 10 of T1…T30, and T99
    assert task_count(store, pid, TaskFilter(text="task 1")) == 11  # T1, T10…T19 by title, any case
    # LIKE's wildcards and the escape character are matched as text
    for text in ("100%", "%_", "a\\b"):
        assert task_count(store, pid, TaskFilter(text=text)) == 1, text
    assert task_count(store, pid, TaskFilter(text="%")) == 1
    assert not TaskFilter().narrowed and TaskFilter(text=" x ").narrowed and TaskFilter(min_priority=2).narrowed

    f = TaskFilter(phase="development")
    first = task_page(store, pid, f, 0, 4)
    assert [t.task_id for t in first] == ["T1", "T4", "T7", "T10"]
    assert first[0].cells()[:5] == ("T1", "Task 1", "development", 2, "DONE") and first[3].tags == ""
    assert task_page(store, pid, TaskFilter(text="T4"), 0, 1)[0].tags == "api"
    assert len(first[0].updated) == len("2026-12-03 16:00")
    assert tasks_ahead(store, pid, f, first[-1].row_id, 4) == 4
    rest = task_page(store, pid, f, first[-1].row_id, 100)
    assert [t.task_id for t in rest] == ["T13", "T16", "T19", "T22", "T25", "T28"]
    assert tasks_ahead(store, pid, f, rest[-1].row_id, 4) == 0


def test_import_spec_imports_the_file_as_a_job(services: Services, tmp_path: Path) -> None:
    assert import_available()
    pid = services.config.add_project("Shop")
    path = write_demo_tasks(tmp_path / "tasks.csv", 12)
    spec = import_spec(services.store, pid, "Shop", path)
    assert (spec.kind, spec.title) == ("import", "Import tasks into Shop from tasks.csv")
    result = services.run(spec)
    assert result.state == "succeeded" and result.outcome.counts["created"] == 12
    assert result.outcome.message.startswith("Imported tasks.csv into Shop: 12 created")
    assert task_count(services.store, pid) == 12
    bad = tmp_path / "bad.csv"
    bad.write_text("task_id,title,priority\nT1,x,high\n", encoding="utf-8")
    failed = services.run(import_spec(services.store, pid, "Shop", bad))
    assert failed.state == "failed" and failed.outcome.failure is not None
    assert task_count(services.store, pid) == 12


def test_bundle_spec_writes_the_bundle_of_a_job(services: Services) -> None:
    jid = services.run(JobSpec("sync", "Events", _events_job)).job_id
    spec = bundle_spec(services, job_id=jid)
    assert (spec.kind, spec.title) == ("bundle", f"Support bundle for job {jid}")
    result = services.run(spec)
    assert result.state == "succeeded"
    path = Path(result.outcome.data["path"])
    assert path.parent == services.paths.bundles and zipfile.is_zipfile(path)
    assert get_job(services.store, result.job_id) is not None
