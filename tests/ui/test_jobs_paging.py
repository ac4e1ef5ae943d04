"""The Jobs page loads when shown, pages a big job's events (fetchMore) and counts them in SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from almdesk.models import Job, JobEventRow
from almdesk.services import Services
from almdesk.ui.jobs_view import EVENT_PAGE, JobsView


def test_events_are_paged_and_counted(qtbot: QtBot, services: Services) -> None:
    with services.store.session() as s:
        job = Job(kind="sync", title="Big sync", state="failed", succeeded=False, started=datetime.now(UTC),
                  result_message="1,200 items")
        s.add(job)
        s.flush()
        jid = job.id
        rows = [{"job_id": jid, "time": 1.0 + i, "item": f"T{i}", "action": "create",
                 "status": "failed" if i % 100 == 0 else "ok", "message": f"m{i}", "url": ""} for i in range(1200)]
        # a step reported "running" then its result: only the result is shown; a step still running stays
        rows += [{"job_id": jid, "time": 9e3, "item": "DNS", "action": "step", "status": "running", "message": "",
                  "url": ""},
                 {"job_id": jid, "time": 9e3, "item": "DNS", "action": "step", "status": "ok", "message": "",
                  "url": ""},
                 {"job_id": jid, "time": 9e3, "item": "TLS", "action": "step", "status": "running", "message": "",
                  "url": ""}]
        s.execute(insert(JobEventRow), rows)

    view = JobsView(services)
    qtbot.addWidget(view)
    assert view.job_model.rowCount() == 0  # nothing read before the page is shown
    view.resize(1000, 600)
    view.show()
    assert view.job_model.rowCount() == 1 and view.current is not None and view.current["id"] == jid
    model = view.event_model
    assert model.total == 1202 and model.rowCount() == EVENT_PAGE
    assert view.event_label.text() == "1202 event(s), 12 failed"
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 1202
    assert [r[1] for r in model.rows[:3]] == ["T0", "T1", "T2"]
    assert [(r[1], r[3]) for r in model.rows[-2:]] == [("DNS", "ok"), ("TLS", "running")]

    view.hide()
    view.refresh()  # a job ended while hidden: only marked stale
    assert view.stale
    view.show()
    assert not view.stale and model.rowCount() == EVENT_PAGE
