"""The Jobs page and the trace viewer, over jobs really run against the Octane sandbox in debug mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from almdesk.base.records import GateRequest
from almdesk.net.redact import MASK
from almdesk.services import Services
from almdesk.ui.jobs_view import JobsView
from almdesk.ui.runner import JobRunner
from almdesk.ui.trace_view import TraceView, curl_command
from tests.ui.conftest import OctaneEnv

Shot = Callable[[QWidget, str], Path]
WRONG_SECRET = "wrong-secret-Zq81xP"


def run(qtbot: QtBot, runner: JobRunner, spec) -> object:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(runner.finished, timeout=20000) as blocker:
        runner.submit(spec)
    return blocker.args[1]


def debug_jobs(qtbot: QtBot, services: Services, runner: JobRunner, octane: OctaneEnv) -> None:
    """A passing gate and a failing Test Connection (wrong secret: a 401 in the trace), both traced."""
    info = services.config.connection(octane.connection_id)
    services.config.save_connection(info.alias, info.connector, info.project, info.params, debug_mode=True,
                                    connection_id=info.id)
    run(qtbot, runner, services.gate_spec(GateRequest(release="Release 24.1", threshold=1000),
                                          connection=octane.connection_id))
    services.config.save_connector("Octane demo", "octane", octane.describe["params"],
                                   {"client_secret": WRONG_SECRET}, connector_id=octane.connector_id)
    run(qtbot, runner, services.test_spec(connection=octane.connection_id))


def test_jobs_view_filters_details_events_and_trace(qtbot: QtBot, services: Services, runner: JobRunner,
                                                    octane: OctaneEnv, shot: Shot) -> None:
    debug_jobs(qtbot, services, runner, octane)
    view = JobsView(services)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    assert view.job_model.rowCount() == 2
    assert view.count_label.text() == "2 job(s)"
    newest = view.job_model.rows[0]
    assert newest[2] == "test-connection" and newest[3] == "octane-shop" and newest[4] == "failed"
    assert view.current is not None and view.current["kind"] == "test-connection"
    assert "HTTP 401" in view.detail.text() or "refused" in view.detail.text()
    assert view.event_model.rowCount() > 0
    assert any(r[3] == "failed" for r in view.event_model.rows)
    assert view.trace_btn.isVisible() and view.trace_btn.isEnabled()
    shot(view, "jobs_view")

    view.kind.setCurrentIndex(view.kind.findData("gate"))
    assert [r[2] for r in view.job_model.rows] == ["gate"]
    assert view.current is not None and view.current["kind"] == "gate"
    assert "Query: defects in release 'Release 24.1'" in view.detail.text()
    assert view.event_model.rows[0][2] == "gate"
    view.state.setCurrentIndex(view.state.findData("failed"))
    assert view.job_model.rowCount() == 0 and view.title.text() == "No job matches the filters."
    assert not view.trace_btn.isVisible()
    view.kind.setCurrentIndex(0)
    view.state.setCurrentIndex(0)
    view.connection.setCurrentIndex(view.connection.findData(octane.connection_id))
    assert view.job_model.rowCount() == 2

    assert view.select_job(view.jobs[0]["id"])
    trace = view.open_trace()
    assert isinstance(trace, TraceView)
    qtbot.waitUntil(lambda: not trace.loading, timeout=10000)
    statuses = [r[2] for r in trace.model.rows]
    assert 401 in statuses
    trace.status_filter.setCurrentText("4xx")
    assert trace.proxy.rowCount() == statuses.count(401) + sum(1 for s in statuses if 400 <= s < 500 and s != 401)
    trace.table.selectRow(0)
    entry = trace.current_entry()
    assert entry is not None and entry["status"] // 100 == 4
    assert f"HTTP {entry['status']}" in trace.detail.toPlainText()
    command = trace.copy_curl()
    assert command.startswith("curl -X ") and QGuiApplication.clipboard().text() == command
    everything = command + trace.detail.toPlainText() + Path(view.current["trace_path"]).read_text()  # type: ignore[index]
    assert WRONG_SECRET not in everything, "the secret never reaches the trace, the view or the clipboard"
    assert MASK in everything
    shot(trace, "trace_view")
    trace.close()


def test_trace_view_synthetic_file_filters_and_curl(qtbot: QtBot, tmp_path: Path, shot: Shot) -> None:
    path = tmp_path / "t.jsonl"
    entries = [
        {"method": "POST", "url": "https://alm.example/authentication/sign_in", "status": 200, "elapsed_ms": 12.5,
         "request_headers": {"Content-Type": "application/json", "Content-Length": "44"},
         "request_body": json.dumps({"client_id": "k", "client_secret": MASK}, ensure_ascii=False),
         "response_headers": {"Set-Cookie": MASK}, "response_body": ""},
        {"method": "GET", "url": "https://alm.example/api/x?q=it's", "status": 404, "elapsed_ms": 3,
         "request_headers": {"Cookie": MASK}, "request_body": "", "response_headers": {},
         "response_body": "{\"message\": \"not found\"}"},
        {"method": "GET", "url": "https://alm.example/api/y", "status": 503, "elapsed_ms": 30000,
         "request_headers": {}, "request_body": "", "response_headers": {"Retry-After": "5"},
         "response_body": "<html>busy</html>"},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    view = TraceView(path)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=5000)
    assert view.model.rowCount() == 3 and "2 with an error status" in view.summary.text()
    view.status_filter.setCurrentText("5xx")
    assert view.proxy.rowCount() == 1 and view.summary.text().startswith("1 of 3")
    view.status_filter.setCurrentText("All")
    view.search.setText("api/x")
    assert view.proxy.rowCount() == 1
    view.table.selectRow(0)
    assert '"message": "not found"' in view.detail.toPlainText()
    assert curl_command(entries[1]) == (
        "curl -X GET 'https://alm.example/api/x?q=it'\"'\"'s' -H 'Cookie: «redacted»'")
    first = curl_command(entries[0])
    assert "Content-Length" not in first and f'"client_secret": "{MASK}"' in first and "--data-raw" in first
    missing = TraceView(tmp_path / "gone.jsonl")
    qtbot.addWidget(missing)
    qtbot.waitUntil(lambda: not missing.loading, timeout=5000)
    assert missing.summary.text().startswith("The trace is empty")
    shot(view, "trace_synthetic")
