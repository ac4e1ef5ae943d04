"""Debug-mode traces are written and redacted; support bundles hold the job, settings, versions, no secret."""

from __future__ import annotations

import base64
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from almdesk.bundle import secret_variants, support_bundle
from almdesk.errors import ConfigError
from almdesk.net.redact import MASK
from almdesk.net.trace import read_trace
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.secrets import SecretStore
from almdesk.services import Services
from almdesk.systems.registry import Registry
from tests.admin.tracer import ISSUED_KEYS, SECRET, SESSION, USER, TracerSandbox, TracerSystem
from tests.toy import ToySystem


@pytest.fixture
def tracer_server() -> Iterator[SandboxServer]:
    server = serve(TracerSandbox())
    yield server
    server.stop()


@pytest.fixture
def svc(data_dir: Path, secret_store: SecretStore, tracer_server: SandboxServer) -> Iterator[Services]:
    services = Services.open(data_dir, registry=Registry.default(extra=[ToySystem(), TracerSystem()]),
                            secrets=secret_store)
    cfg = services.config
    cfg.save_connector("tracer", "tracer", {"url": tracer_server.url, "user": USER}, {"secret": SECRET})
    cfg.add_project("P")
    cfg.save_connection("traced", "tracer", "P", {"space": "S1"}, debug_mode=True)
    # the same ALM target as "traced": another context, or Test Connection and sync refuse (issue 13)
    cfg.save_connection("quiet", "tracer", "P", {"space": "S1", "alm_context": "quiet"})
    yield services
    services.close()


def forms() -> list[str]:
    return [SECRET, quote(SECRET, safe=""), base64.b64encode(f"{USER}:{SECRET}".encode()).decode(), SESSION]


def test_debug_trace_is_written_and_redacted(svc: Services) -> None:
    result = svc.run(svc.test_spec(connection="traced"))
    steps = {s["key"]: s["status"] for s in result.outcome.data["steps"]}
    assert all(steps[k] == "ok" for k in ("basic", "sign_in", "zsession", "oauth", "echo", "issued")), steps
    job = svc.config.connection("traced").last_job_id
    from almdesk.jobs.history import get_job

    row = get_job(svc.store, job or 0)
    assert row is not None and row["trace_path"]
    path = Path(row["trace_path"])
    assert path.parent == svc.paths.traces
    entries = read_trace(path)
    by_path = {e["url"].split("?")[0].rsplit("/", 1)[-1]: e for e in entries}
    assert {"basic", "sign_in", "zsession", "oauth", "echo-error"} <= set(by_path)
    raw = path.read_bytes()
    for form in forms():
        assert form.encode() not in raw, form
    assert by_path["basic"]["request_headers"]["Authorization"] == MASK
    assert by_path["sign_in"]["response_headers"]["Set-Cookie"] == MASK
    assert json.loads(by_path["sign_in"]["request_body"])["client_secret"] == MASK
    assert json.loads(by_path["sign_in"]["response_body"])["token"] == MASK
    assert by_path["zsession"]["request_headers"]["ZSESSIONID"] == MASK
    assert by_path["zsession"]["request_headers"]["Cookie"] == MASK
    assert MASK in unquote(by_path["oauth"]["url"]) and "access_token" in by_path["oauth"]["url"]
    assert MASK in unquote(by_path["oauth"]["request_body"])
    assert json.loads(by_path["oauth"]["response_body"])["access_token"] == MASK
    assert MASK in by_path["echo-error"]["response_body"] and by_path["echo-error"]["status"] == 400
    assert all(e["method"] and e["elapsed_ms"] >= 0 for e in entries)

    before = set(svc.paths.traces.iterdir())
    quiet = svc.run(svc.test_spec(connection="quiet"))
    assert quiet.state == "succeeded"
    assert set(svc.paths.traces.iterdir()) == before  # no debug mode, no trace


def test_tokens_issued_at_run_time_are_masked_by_key_name(svc: Services, tracer_server: SandboxServer,
                                                         tmp_path: Path) -> None:
    """Values almdesk never knew (made by the server during the job) are hidden by their key names
    alone — at any depth, anywhere in the key, in any case — in the trace, the bundle and the log."""
    result = svc.run(svc.test_spec(connection="traced"))
    assert result.state == "succeeded"
    app = tracer_server.app
    assert isinstance(app, TracerSandbox)
    issued = app.issued
    assert len(issued) == len(ISSUED_KEYS) + 2
    trace = sorted(svc.paths.traces.iterdir())[-1]
    entry = next(e for e in read_trace(trace) if e["url"].endswith("/issue"))
    body = json.loads(entry["response_body"])
    assert body["OperationResult"] == dict.fromkeys(ISSUED_KEYS, MASK)
    assert body["items"] == [{"name": "n", "Password": MASK}] and body["plain"] == "visible"
    assert entry["response_headers"]["X-Issued-Token"] == MASK
    bundle = support_bundle(svc, connection="traced", out_dir=tmp_path / "out")
    # the process-wide log handler writes to the first data dir a test process opened
    logs = {h.baseFilename for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)}
    assert logs
    places = {"trace": trace.read_bytes(), **{f: Path(f).read_bytes() for f in logs}, **_members(bundle)}
    for name, data in places.items():
        for token in issued:
            assert token.encode() not in data, (name, token)


def test_trace_url_with_query_stays_readable(svc: Services) -> None:
    svc.run(svc.test_spec(connection="traced"))
    path = Path(svc.config.connection("traced").last_job_id and sorted(svc.paths.traces.iterdir())[-1])
    urls = [e["url"] for e in read_trace(path)]
    assert any(u.startswith("http://127.0.0.1") and "/oauth?access_token=" in u for u in urls), urls


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_support_bundle_holds_job_settings_versions_and_no_secret(svc: Services, tmp_path: Path) -> None:
    result = svc.run(svc.test_spec(connection="traced"))
    # A careless component logging a secret: the bundle must still not carry it.
    # (written directly: the process-wide log handler points at the first data dir a test process opened)
    with svc.paths.log_file.open("a", encoding="utf-8") as fh:
        fh.write(f"2024-01-01 00:00:00 WARNING almdesk.test: leaked by a bug: {SECRET} / {quote(SECRET, safe='')}\n")

    bundle = support_bundle(svc, connection="traced", out_dir=tmp_path / "out")
    members = _members(bundle)
    assert {"jobs.json", "settings.json", "versions.json", "app-log-tail.txt", "README.txt"} <= set(members)
    traces = [n for n in members if n.startswith("traces/")]
    assert len(traces) == 1
    for name, data in members.items():
        for form in secret_variants([SECRET], [USER]) | {SECRET}:
            assert form.encode() not in data, (name, form)
    jobs = json.loads(members["jobs.json"])
    assert [j["id"] for j in jobs] == [result.job_id]
    assert jobs[0]["trace_member"] == traces[0] and any(e["action"] == "step:sign_in" for e in jobs[0]["events"])
    settings = json.loads(members["settings.json"])
    assert [c["alias"] for c in settings["results"]] == ["traced"]
    assert [c["name"] for c in settings["connectors"]] == ["tracer"]
    assert "secret" not in settings["connectors"][0]["params"]
    versions = json.loads(members["versions.json"])
    assert versions["qt"] != "not installed" and versions["python"]
    assert versions["qt"].startswith(versions["libraries"]["PySide6_Essentials"])
    assert "leaked by a bug" in members["app-log-tail.txt"].decode() and MASK in members["app-log-tail.txt"].decode()

    by_job = support_bundle(svc, job_id=result.job_id, out_dir=tmp_path / "out")
    assert by_job != bundle and json.loads(_members(by_job)["jobs.json"])[0]["id"] == result.job_id
    with pytest.raises(ConfigError, match="no job #999"):
        support_bundle(svc, job_id=999, out_dir=tmp_path / "out")
